"""All of Caretaker's SQL: functions `fn(conn, ...)` returning Structs or plain values."""
