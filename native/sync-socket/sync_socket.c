/*
 * sync_socket: blocking stream-socket I/O on the calling thread, for msf's blocking calls
 * (runtime/client/sync-native-*.ts). Every function is synchronous: it blocks the JavaScript
 * thread that calls it, at most for the timeout it is given, waiting with poll(2).
 *
 * The descriptors it creates are non-blocking, close-on-exec, and never registered with libuv:
 * they do not keep the event loop alive and no libuv callback ever touches them. Whoever opened
 * one closes it with close(); a descriptor is never reused by this module after that.
 *
 * Exported functions (all throw an Error whose `code` is the errno name, e.g. "ECONNREFUSED",
 * with `errno` and `syscall` set, when the system refuses; wrong argument types throw TypeError):
 *
 *   connectUnix(path: Uint8Array, timeoutMs: number): number
 *       path is sun_path's content: a file path, or a leading 0 byte and an abstract name (tried
 *       as its exact bytes, then zero-padded to the whole sun_path as libuv < 1.46 binds it).
 *   connectTcp(host: string, port: number, timeoutMs: number): number
 *       host is a name or a numeric IPv4/IPv6 address (no brackets); every address it resolves
 *       to is tried in order until one connects. TCP_NODELAY is set.
 *       Both throw code "ETIMEDOUT" when timeoutMs passes first. A timeout < 0 means none.
 *   write(fd: number, bytes: Uint8Array, timeoutMs: number): number
 *       Writes all bytes, waiting for room when the socket is full; returns the number written,
 *       which is less than bytes.length only when timeoutMs passed first.
 *   read(fd: number, buffer: Uint8Array, offset: number, timeoutMs: number): number
 *       Waits until bytes are available (at most timeoutMs; 0 = do not wait; < 0 = no limit) and
 *       reads what is there into buffer[offset..]: returns the count, 0 at end of stream, -1 when
 *       the time passed with nothing to read.
 *   close(fd: number): undefined
 */
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 4

/* ---------- errors ---------- */

static const char *errno_name(int error) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(error);
  if (name != NULL) return name;
#endif
  switch (error) {
    case EACCES: return "EACCES";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ECONNABORTED: return "ECONNABORTED";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOENT: return "ENOENT";
    case ENOMEM: return "ENOMEM";
    case ENOTCONN: return "ENOTCONN";
    case ENOTDIR: return "ENOTDIR";
    case ENOTSOCK: return "ENOTSOCK";
    case EPERM: return "EPERM";
    case EPIPE: return "EPIPE";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ETIMEDOUT: return "ETIMEDOUT";
    default: return "EUNKNOWN";
  }
}

/* Throws Error(message) with code, errno and syscall properties; returns NULL for the caller to return. */
static napi_value throw_coded(napi_env env, const char *code, int error, const char *syscall, const char *message) {
  napi_value code_value, message_value, error_value, number_value, syscall_value;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error_value) != napi_ok) {
    napi_throw_error(env, code, message);
    return NULL;
  }
  if (napi_create_int32(env, error, &number_value) == napi_ok) {
    napi_set_named_property(env, error_value, "errno", number_value);
  }
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) == napi_ok) {
    napi_set_named_property(env, error_value, "syscall", syscall_value);
  }
  napi_throw(env, error_value);
  return NULL;
}

/* Throws for errno `error` raised by `syscall`: message "<syscall>: <strerror>". */
static napi_value throw_errno(napi_env env, int error, const char *syscall) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(error));
  return throw_coded(env, errno_name(error), error, syscall, message);
}

static napi_value throw_timeout(napi_env env, const char *syscall, int64_t timeout_ms) {
  char message[128];
  snprintf(message, sizeof message, "%s: no answer within %lld ms", syscall, (long long)timeout_ms);
  return throw_coded(env, "ETIMEDOUT", ETIMEDOUT, syscall, message);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

/* ---------- arguments ---------- */

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < expected) {
    char message[64];
    snprintf(message, sizeof message, "expected %zu arguments, got %zu", expected, argc);
    throw_type(env, message);
    return 0;
  }
  return 1;
}

static int get_int64(napi_env env, napi_value value, const char *what, int64_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a number", what);
    throw_type(env, message);
    return 0;
  }
  return napi_get_value_int64(env, value, out) == napi_ok;
}

static int get_fd(napi_env env, napi_value value, int *out) {
  int64_t fd;
  if (!get_int64(env, value, "fd", &fd)) return 0;
  if (fd < 0 || fd > INT32_MAX) {
    throw_type(env, "fd must be a descriptor number >= 0");
    return 0;
  }
  *out = (int)fd;
  return 1;
}

static int get_bytes(napi_env env, napi_value value, const char *what, uint8_t **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *pointer = NULL;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a Uint8Array", what);
    throw_type(env, message);
    return 0;
  }
  *data = pointer;
  return 1;
}

static napi_value make_int(napi_env env, int64_t value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

/* ---------- time ---------- */

/* Deadlines are kept in microseconds, so a wait never ends before its whole timeout has passed. */
static int64_t now_us(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/* poll(2) on one descriptor until `events` or `deadline` (now_us() clock; < 0 = none), retrying
 * after signals. Returns the revents, 0 when the deadline passed, -1 with errno on failure. */
static int wait_for(int fd, short events, int64_t deadline) {
  for (;;) {
    int wait_ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - now_us();
      if (left <= 0) return 0;
      int64_t left_ms = (left + 999) / 1000;
      wait_ms = left_ms > INT32_MAX ? INT32_MAX : (int)left_ms;
    }
    struct pollfd entry = {.fd = fd, .events = events, .revents = 0};
    int ready = poll(&entry, 1, wait_ms);
    if (ready > 0) return entry.revents;
    if (ready == 0) continue;
    if (errno != EINTR) return -1;
  }
}

static int64_t deadline_after(int64_t timeout_ms) {
  return timeout_ms < 0 ? -1 : now_us() + timeout_ms * 1000;
}

/* ---------- connect ---------- */

/* Non-blocking connect of a new socket to `address`, waiting up to `deadline`. Returns the fd, or
 * -1 with errno set (ETIMEDOUT when the deadline passed). */
static int connect_address(int family, const struct sockaddr *address, socklen_t length, int64_t deadline) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  for (;;) {
    if (connect(fd, address, length) == 0) return fd;
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) break;
    if (errno == EAGAIN && family == AF_UNIX) {
      /* The listener's backlog is full: try again shortly, within the deadline. */
      if (deadline >= 0 && now_us() >= deadline) {
        errno = ETIMEDOUT;
        goto fail;
      }
      struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
      nanosleep(&pause, NULL);
      continue;
    }
    goto fail;
  }
  int ready = wait_for(fd, POLLOUT, deadline);
  if (ready < 0) goto fail;
  if (ready == 0) {
    errno = ETIMEDOUT;
    goto fail;
  }
  int error = 0;
  socklen_t error_length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length) != 0) goto fail;
  if (error != 0) {
    errno = error;
    goto fail;
  }
  return fd;
fail: {
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}
}

static napi_value connect_unix(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  uint8_t *path;
  size_t path_length;
  int64_t timeout_ms;
  if (!get_args(env, info, 2, argv) || !get_bytes(env, argv[0], "path", &path, &path_length) ||
      !get_int64(env, argv[1], "timeoutMs", &timeout_ms)) {
    return NULL;
  }
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  int abstract = path_length > 0 && path[0] == 0;
  /* A file path needs room for its terminating NUL; an abstract name is counted exactly. */
  if (path_length == 0 || path_length + (abstract ? 0 : 1) > sizeof address.sun_path) {
    return throw_coded(env, "EINVAL", EINVAL, "connect", "connect: the unix socket path is empty or longer than sun_path");
  }
  memcpy(address.sun_path, path, path_length);
  socklen_t length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length + (abstract ? 0 : 1));
  int64_t deadline = deadline_after(timeout_ms);
  int fd = connect_address(AF_UNIX, (struct sockaddr *)&address, length, deadline);
  if (fd < 0 && abstract && errno == ECONNREFUSED) {
    /* An abstract name is its exact bytes, but some binders (libuv before 1.46, so Node 20) pass
     * the whole zero-padded sun_path as the name: try that spelling too. */
    fd = connect_address(AF_UNIX, (struct sockaddr *)&address, (socklen_t)sizeof address, deadline);
  }
  if (fd < 0) {
    return errno == ETIMEDOUT ? throw_timeout(env, "connect", timeout_ms) : throw_errno(env, errno, "connect");
  }
  return make_int(env, fd);
}

static napi_value connect_tcp(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  char host[256];
  size_t host_length;
  int64_t port, timeout_ms;
  if (!get_args(env, info, 3, argv)) return NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) return throw_type(env, "host must be a string");
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length) != napi_ok) return NULL;
  if (host_length == 0 || host_length >= sizeof host - 1) return throw_type(env, "host must be 1..254 bytes");
  if (!get_int64(env, argv[1], "port", &port) || !get_int64(env, argv[2], "timeoutMs", &timeout_ms)) return NULL;
  if (port < 1 || port > 65535) return throw_type(env, "port must be 1..65535");

  char service[8];
  snprintf(service, sizeof service, "%d", (int)port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo *addresses = NULL;
  int resolved = getaddrinfo(host, service, &hints, &addresses);
  if (resolved != 0) {
    char message[384];
    snprintf(message, sizeof message, "getaddrinfo: cannot resolve %s: %s", host, gai_strerror(resolved));
    int error = resolved == EAI_SYSTEM ? errno : 0;
    return throw_coded(env, resolved == EAI_NONAME ? "ENOTFOUND" : "EAI_FAIL", error, "getaddrinfo", message);
  }
  int64_t deadline = deadline_after(timeout_ms);
  int fd = -1;
  int last_error = EADDRNOTAVAIL;
  for (struct addrinfo *entry = addresses; entry != NULL; entry = entry->ai_next) {
    fd = connect_address(entry->ai_family, entry->ai_addr, entry->ai_addrlen, deadline);
    if (fd >= 0) break;
    last_error = errno;
    if (last_error == ETIMEDOUT) break;
  }
  freeaddrinfo(addresses);
  if (fd < 0) {
    return last_error == ETIMEDOUT ? throw_timeout(env, "connect", timeout_ms) : throw_errno(env, last_error, "connect");
  }
  int on = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, error, "setsockopt");
  }
  return make_int(env, fd);
}

/* ---------- write, read, close ---------- */

static napi_value write_all(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  uint8_t *data;
  size_t length;
  int64_t timeout_ms;
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd) || !get_bytes(env, argv[1], "bytes", &data, &length) ||
      !get_int64(env, argv[2], "timeoutMs", &timeout_ms)) {
    return NULL;
  }
  int64_t deadline = -2; /* computed only if the socket is ever full */
  size_t written = 0;
  while (written < length) {
    ssize_t sent = send(fd, data + written, length - written, MSG_NOSIGNAL);
    if (sent >= 0) {
      written += (size_t)sent;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return throw_errno(env, errno, "write");
    if (deadline == -2) deadline = deadline_after(timeout_ms);
    int ready = wait_for(fd, POLLOUT, deadline);
    if (ready < 0) return throw_errno(env, errno, "poll");
    if (ready == 0) break;
  }
  return make_int(env, (int64_t)written);
}

static napi_value read_some(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  uint8_t *data;
  size_t length;
  int64_t offset, timeout_ms;
  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd) || !get_bytes(env, argv[1], "buffer", &data, &length) ||
      !get_int64(env, argv[2], "offset", &offset) || !get_int64(env, argv[3], "timeoutMs", &timeout_ms)) {
    return NULL;
  }
  if (offset < 0 || (uint64_t)offset >= length) return throw_type(env, "offset must leave room in the buffer");
  int64_t deadline = deadline_after(timeout_ms);
  for (;;) {
    if (timeout_ms != 0) {
      int ready = wait_for(fd, POLLIN, deadline);
      if (ready < 0) return throw_errno(env, errno, "poll");
      if (ready == 0) return make_int(env, -1);
    }
    ssize_t received = recv(fd, data + offset, length - (size_t)offset, 0);
    if (received >= 0) return make_int(env, received);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (timeout_ms == 0) return make_int(env, -1);
      continue;
    }
    return throw_errno(env, errno, "read");
  }
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) return NULL;
  /* Linux releases the descriptor even when close reports EINTR: never retry. */
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, errno, "close");
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"connectUnix", NULL, connect_unix, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connectTcp", NULL, connect_tcp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, write_all, NULL, NULL, NULL, napi_enumerable, NULL},
      {"read", NULL, read_some, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
