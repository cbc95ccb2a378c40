{
  "targets": [
    {
      "target_name": "netlink",
      "sources": ["netlink.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
