"""Gateway tests against a real Mosquitto and PostgreSQL."""
