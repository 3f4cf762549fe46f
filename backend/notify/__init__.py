"""Telling people after commit: the SSE hub fed by LISTEN/NOTIFY, the Web Push dispatcher, the VAPID key."""
