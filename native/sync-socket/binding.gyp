{
  "targets": [
    {
      "target_name": "sync_socket",
      "sources": ["sync_socket.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
