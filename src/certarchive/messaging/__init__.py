"""Messages to holders (Z-4): the outbox they wait in, the templates they are written
from, and the channels that carry them (an HTTP SMS gateway, SMTP e-mail, the WeChat
official account's template messages).

A message is committed to the outbox in the same transaction as the change that causes
it (a case recorded, certificates issued, a download code re-sent), so no message is
lost and none is sent for a change that did not happen.  The serving process's
background thread delivers due messages (:mod:`.delivery`): it claims a message in one
transaction (counting the attempt and setting the next one), sends it outside any
transaction, and records the channel's answer in another.  A process that stops between
the two sends the message again later under the same id, which is the only way a
message is repeated: where the channel's answer was lost, so that the channel can drop
the repeat.  Phone numbers, addresses, openids and codes are stored encrypted and never
logged.
"""
