{
  "targets": [
    {
      "target_name": "dhrishti_native",
      "sources": ["loader.c"],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
