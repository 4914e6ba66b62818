"""The e-certificate file: PDF pages, QR code, seal image, signature, watermark (H-1, H-5.1)."""
