from .receiver import receiver, send_path

__all__ = ["receiver", "send_path"]
