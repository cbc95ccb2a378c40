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
 *
 * Datagram sockets (msf's udp:// and netlink:// transports; one datagram per call, never split):
 *
 *   openUdp(host: string, port: number): number
 *       A udp socket connected to the first address `host` (a name or a numeric IPv4/IPv6
 *       address, no brackets) resolves to: only that peer's datagrams are received, and an ICMP
 *       port unreachable makes a later sendUdp or receiveUdp fail ECONNREFUSED.
 *   openNetlink(peerPort: number, bufferBytes: number): { fd, port, sendBufferBytes }
 *       A NETLINK_USERSOCK socket (Linux only; elsewhere code EAFNOSUPPORT) bound to a port id the
 *       kernel picks (`port`) and connected to `peerPort`, so the kernel refuses unicasts from any
 *       other port id. SO_SNDBUF and SO_RCVBUF are set to bufferBytes as far as the system allows;
 *       `sendBufferBytes` is what the kernel set. Messages carry the struct nlmsghdr of
 *       native/netlink/netlink.c (type 0x4D53, nlmsg_pid = the sender's port id) and one frame.
 *   sendUdp(fd: number, datagram: Uint8Array): number
 *   sendNetlink(fd: number, ownPort: number, datagram: Uint8Array): number
 *       Sends one datagram without waiting: 0 when the kernel took it, else its errno (positive):
 *       EAGAIN or ENOBUFS when a buffer is full, ECONNREFUSED when nobody listens there (udp: an
 *       earlier ICMP port unreachable; netlink: no socket is bound to the peer's port id),
 *       EMSGSIZE when too large. These are returned, not thrown: a datagram layer counts them
 *       and retransmits. Wrong arguments throw TypeError.
 *   receiveUdp(fd: number, buffer: Uint8Array, timeoutMs: number): number
 *   receiveNetlink(fd: number, peerPort: number, buffer: Uint8Array, timeoutMs: number): number
 *       Waits for one datagram (at most timeoutMs; 0 = do not wait; < 0 = no limit) and copies
 *       it to buffer[0..]: returns its length (netlink: the frame's, nlmsghdr removed), -1 when
 *       the time passed with nothing. Datagrams that do not fit in the buffer, and netlink
 *       messages that are not msf frames from `peerPort`, are dropped and the wait goes on.
 *       Failures throw (udp: ECONNREFUSED after an ICMP port unreachable).
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

#ifdef __linux__
#include <linux/netlink.h>
#endif

#define MAX_ARGS 4
/* The nlmsghdr type of msf frames (native/netlink/netlink.c). */
#define MSF_NLMSG_TYPE 0x4D53

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
    case EMSGSIZE: return "EMSGSIZE";
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

/* ---------- datagrams ---------- */

static int get_port(napi_env env, napi_value value, const char *what, uint32_t max, uint32_t *out) {
  int64_t number;
  if (!get_int64(env, value, what, &number)) return 0;
  if (number < 0 || (uint64_t)number > max) {
    char message[96];
    snprintf(message, sizeof message, "%s must be 0..%u", what, max);
    throw_type(env, message);
    return 0;
  }
  *out = (uint32_t)number;
  return 1;
}

static napi_value open_udp(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  char host[256];
  size_t host_length;
  uint32_t port;
  if (!get_args(env, info, 2, argv)) return NULL;
  napi_valuetype type;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) return throw_type(env, "host must be a string");
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_length) != napi_ok) return NULL;
  if (host_length == 0 || host_length >= sizeof host - 1) return throw_type(env, "host must be 1..254 bytes");
  if (!get_port(env, argv[1], "port", 65535, &port)) return NULL;
  if (port == 0) return throw_type(env, "port must be 1..65535");

  char service[8];
  snprintf(service, sizeof service, "%u", port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo *addresses = NULL;
  int resolved = getaddrinfo(host, service, &hints, &addresses);
  if (resolved != 0) {
    char message[384];
    snprintf(message, sizeof message, "getaddrinfo: cannot resolve %s: %s", host, gai_strerror(resolved));
    int error = resolved == EAI_SYSTEM ? errno : 0;
    return throw_coded(env, resolved == EAI_NONAME ? "ENOTFOUND" : "EAI_FAIL", error, "getaddrinfo", message);
  }
  int fd = socket(addresses->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int error = errno;
    freeaddrinfo(addresses);
    return throw_errno(env, error, "socket");
  }
  /* A datagram socket connects at once: it only records the peer. */
  int connected = connect(fd, addresses->ai_addr, addresses->ai_addrlen);
  int error = errno;
  freeaddrinfo(addresses);
  if (connected != 0) {
    close(fd);
    return throw_errno(env, error, "connect");
  }
  return make_int(env, fd);
}

static napi_value open_netlink(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  uint32_t peer, buffer_bytes;
  if (!get_args(env, info, 2, argv) || !get_port(env, argv[0], "peerPort", UINT32_MAX, &peer) ||
      !get_port(env, argv[1], "bufferBytes", INT32_MAX, &buffer_bytes)) {
    return NULL;
  }
#ifdef __linux__
  if (peer == 0) return throw_type(env, "peerPort must be 1..4294967295");
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_USERSOCK);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int size = (int)buffer_bytes;
  /* Best effort: the kernel caps both at net.core.{w,r}mem_max; what it set is reported back. */
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl address = {.nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 0};
  const char *failed = NULL;
  if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    failed = "bind";
  } else {
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) {
      failed = "getsockname";
    } else {
      struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = peer, .nl_groups = 0};
      if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) failed = "connect";
    }
  }
  if (failed != NULL) {
    int error = errno;
    close(fd);
    return throw_errno(env, error, failed);
  }
  int send_buffer = 0;
  socklen_t option_length = sizeof send_buffer;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, &option_length);
  napi_value result, value;
  if (napi_create_object(env, &result) != napi_ok) return NULL;
  napi_set_named_property(env, result, "fd", make_int(env, fd));
  napi_create_uint32(env, address.nl_pid, &value);
  napi_set_named_property(env, result, "port", value);
  napi_set_named_property(env, result, "sendBufferBytes", make_int(env, send_buffer));
  return result;
#else
  (void)peer;
  (void)buffer_bytes;
  return throw_coded(env, "EAFNOSUPPORT", EAFNOSUPPORT, "socket", "socket: netlink sockets exist on Linux only");
#endif
}

/* send(2) of one datagram without waiting; 0 or the errno. */
static int send_datagram(int fd, struct msghdr *message) {
  for (;;) {
    if (sendmsg(fd, message, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

static napi_value send_udp(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  uint8_t *data;
  size_t length;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) || !get_bytes(env, argv[1], "datagram", &data, &length)) {
    return NULL;
  }
  struct iovec iov = {.iov_base = data, .iov_len = length};
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
  return make_int(env, send_datagram(fd, &message));
}

static napi_value send_netlink(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  uint32_t own_port;
  uint8_t *data;
  size_t length;
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd) || !get_port(env, argv[1], "ownPort", UINT32_MAX, &own_port) ||
      !get_bytes(env, argv[2], "datagram", &data, &length)) {
    return NULL;
  }
#ifdef __linux__
  if (length > UINT32_MAX - NLMSG_HDRLEN) return make_int(env, EMSGSIZE);
  struct nlmsghdr header = {
      .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + length),
      .nlmsg_type = MSF_NLMSG_TYPE,
      .nlmsg_flags = 0,
      .nlmsg_seq = 0,
      .nlmsg_pid = own_port,
  };
  struct iovec iov[2] = {{.iov_base = &header, .iov_len = NLMSG_HDRLEN}, {.iov_base = data, .iov_len = length}};
  struct msghdr message = {.msg_iov = iov, .msg_iovlen = 2};
  return make_int(env, send_datagram(fd, &message));
#else
  (void)fd;
  (void)own_port;
  (void)data;
  (void)length;
  return make_int(env, EAFNOSUPPORT);
#endif
}

/*
 * Waits for and reads one datagram into data[0..capacity) (netlink: the nlmsghdr goes to
 * `header`, the frame to data). Returns the datagram's (frame's) length, -1 when the deadline
 * passed, -2 with errno on failure. Datagrams that do not fit, and netlink messages that are not
 * msf frames from `peer`, are dropped.
 */
static ssize_t receive_datagram(int fd, int netlink, uint32_t peer, uint8_t *data, size_t capacity, int64_t timeout_ms) {
  int64_t deadline = deadline_after(timeout_ms);
  for (;;) {
    struct iovec iov[2];
    struct msghdr message;
    memset(&message, 0, sizeof message);
#ifdef __linux__
    struct nlmsghdr header;
    struct sockaddr_nl from;
    if (netlink) {
      iov[0] = (struct iovec){.iov_base = &header, .iov_len = NLMSG_HDRLEN};
      iov[1] = (struct iovec){.iov_base = data, .iov_len = capacity};
      message.msg_iov = iov;
      message.msg_iovlen = 2;
      message.msg_name = &from;
      message.msg_namelen = sizeof from;
    } else
#endif
    {
      iov[0] = (struct iovec){.iov_base = data, .iov_len = capacity};
      message.msg_iov = iov;
      message.msg_iovlen = 1;
    }
    ssize_t received = recvmsg(fd, &message, MSG_DONTWAIT);
    if (received >= 0) {
      if (message.msg_flags & MSG_TRUNC) continue;
#ifdef __linux__
      if (netlink) {
        if ((size_t)received < NLMSG_HDRLEN || header.nlmsg_len != (uint32_t)received || header.nlmsg_type != MSF_NLMSG_TYPE ||
            from.nl_pid != peer) {
          continue;
        }
        return received - (ssize_t)NLMSG_HDRLEN;
      }
#endif
      (void)peer;
      return received;
    }
    if (errno == EINTR) continue;
    /* A netlink receive buffer overrun: the kernel dropped messages (retransmission covers them). */
    if (errno == ENOBUFS && netlink) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return -2;
    if (timeout_ms == 0) return -1;
    int ready = wait_for(fd, POLLIN, deadline);
    if (ready < 0) return -2;
    if (ready == 0) return -1;
  }
}

static napi_value receive_udp(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  uint8_t *data;
  size_t length;
  int64_t timeout_ms;
  if (!get_args(env, info, 3, argv) || !get_fd(env, argv[0], &fd) || !get_bytes(env, argv[1], "buffer", &data, &length) ||
      !get_int64(env, argv[2], "timeoutMs", &timeout_ms)) {
    return NULL;
  }
  ssize_t received = receive_datagram(fd, 0, 0, data, length, timeout_ms);
  if (received == -2) return throw_errno(env, errno, "recvmsg");
  return make_int(env, received);
}

static napi_value receive_netlink(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int fd;
  uint32_t peer;
  uint8_t *data;
  size_t length;
  int64_t timeout_ms;
  if (!get_args(env, info, 4, argv) || !get_fd(env, argv[0], &fd) || !get_port(env, argv[1], "peerPort", UINT32_MAX, &peer) ||
      !get_bytes(env, argv[2], "buffer", &data, &length) || !get_int64(env, argv[3], "timeoutMs", &timeout_ms)) {
    return NULL;
  }
#ifdef __linux__
  ssize_t received = receive_datagram(fd, 1, peer, data, length, timeout_ms);
  if (received == -2) return throw_errno(env, errno, "recvmsg");
  return make_int(env, received);
#else
  return throw_coded(env, "EAFNOSUPPORT", EAFNOSUPPORT, "recvmsg", "recvmsg: netlink sockets exist on Linux only");
#endif
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"connectUnix", NULL, connect_unix, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connectTcp", NULL, connect_tcp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, write_all, NULL, NULL, NULL, napi_enumerable, NULL},
      {"read", NULL, read_some, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openUdp", NULL, open_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openNetlink", NULL, open_netlink, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendUdp", NULL, send_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendNetlink", NULL, send_netlink, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveUdp", NULL, receive_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveNetlink", NULL, receive_netlink, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
