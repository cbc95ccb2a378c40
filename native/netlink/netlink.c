/*
 * netlink: the batched datagram sockets of msf's netlink:// and udp:// transports
 * (runtime/transport/netlink.ts, udp.ts; datagram-native-socket.ts). Linux NETLINK_USERSOCK
 * sockets, and udp sockets with the same batching (node:dgram makes one system call and one
 * JavaScript callback per datagram; here a tick's datagrams leave in one sendmmsg(2) and every
 * datagram waiting is handed over in one call). Node-API only, so one build loads on every Node
 * version >= 20.19, in the main thread and in worker threads alike.
 *
 * Netlink: each socket is AF_NETLINK / SOCK_RAW / NETLINK_USERSOCK, non-blocking and
 * close-on-exec, bound to a port id (nl_pid; 0 = let the kernel choose one). Every message
 * carries a struct nlmsghdr followed by exactly one msf frame: nlmsg_len = 16 + frame bytes,
 * nlmsg_type = MSF_NLMSG_TYPE (0x4D53, "MS"), nlmsg_flags = 0, nlmsg_seq = 0, nlmsg_pid = the
 * sender's port id. The header is added here on send and checked and removed here on receive;
 * JavaScript sees frames only.
 *
 * Udp: each socket is AF_INET or AF_INET6 / SOCK_DGRAM, non-blocking and close-on-exec, bound
 * to an address and port (port 0: the kernel picks), and optionally connected to one peer (a
 * client: only that peer's datagrams are received, and an ICMP port unreachable fails reading
 * with ECONNREFUSED, reported through onError). A datagram is one frame, as is.
 *
 * Input is read when libuv reports the descriptor readable (a uv_poll_t on the thread's own
 * loop): up to MAX_BATCH messages are read with recvmsg(2), copied into one new Buffer, and
 * handed to JavaScript in a single call, onBatch(data, meta, count), where meta holds three
 * u32 per message: the sender's port id (netlink) or udp port, offset of the frame in data,
 * frame length. On a udp socket the UDP_PREFIX (24) bytes before each frame hold the sender's
 * address: 16 address bytes (IPv4: the first 4, in network order, then zeros), the IPv6 scope
 * id (u32, little-endian), 4 unused bytes. Messages that cannot be an msf frame (truncated, a bad
 * nlmsghdr, sent by the kernel) are skipped, and so is a netlink receive buffer overrun (ENOBUFS:
 * the kernel dropped messages; retransmission covers them).
 *
 * Exported functions (errors the system reports throw an Error whose `code` is the errno name,
 * e.g. "EADDRINUSE", with `errno` and `syscall` set; wrong argument types throw TypeError):
 *
 *   open(portId: number, maxFrameBytes: number, bufferBytes: number,
 *        onBatch: (data: Buffer, meta: Uint32Array, count: number) => void,
 *        onError: (code: string) => void): object
 *       Creates, sizes (SO_SNDBUF and SO_RCVBUF = bufferBytes, as far as the system allows)
 *       and binds a netlink socket. The object returned is the handle for the functions below and
 *       has `port` (the port id bound), `sendBufferBytes` and `receiveBufferBytes` (as the kernel
 *       set them). onError is called when reading fails for a reason other than "nothing more"
 *       or an overrun; the socket stops reading then.
 *   openUdp(bindAddress: string, bindPort: number, peerAddress: string, peerPort: number,
 *           maxFrameBytes: number, bufferBytes: number, onBatch, onError): object
 *       The same for a udp socket bound to bindAddress:bindPort (numeric addresses; "0.0.0.0"
 *       or "::" for any) and, unless peerAddress is "", connected to peerAddress:peerPort. The
 *       handle's `port` is the udp port bound.
 *   sendBatch(handle, ports: Uint32Array, frames: Uint8Array[], count: number, results: Int32Array,
 *             addresses?: Uint8Array): number
 *       Sends frames[i] to ports[i] for i < count (at most 256) with sendmmsg(2), in order, without
 *       waiting; results[i] = 0 when the kernel took frame i, else its errno (positive): ECONNREFUSED
 *       when no socket is bound to that port id (or, on a connected udp socket, after an ICMP port
 *       unreachable), EAGAIN when a buffer is full, EMSGSIZE when too large. Returns how many
 *       failed. On an unconnected udp socket, addresses holds UDP_PREFIX bytes per frame, laid out
 *       as in received batches (the destination of frame i at i * 24); a connected one ignores
 *       ports and addresses.
 *   ref(handle, ref: boolean): undefined      whether the socket keeps the event loop alive
 *   close(handle): undefined                  idempotent; no callback runs after it
 *
 * A socket still open when its thread's environment ends (worker exit, process exit) is closed
 * by an environment cleanup hook.
 */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <linux/netlink.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSF_NLMSG_TYPE 0x4D53
#define MAX_BATCH 256
/* Batches are read per readable event at most this many times before yielding to the loop. */
#define MAX_BATCHES_PER_EVENT 8
#define MIN_BATCH_BYTES (256 * 1024)
/* Bytes before each udp frame in a batch (and per frame in sendBatch's addresses): the peer's address. */
#define UDP_PREFIX 24

/* A destination of sendBatch. */
typedef union dg_address {
  struct sockaddr_nl nl;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} dg_address;

typedef struct nl_socket {
  uv_poll_t poll;
  int fd;
  /* AF_NETLINK, AF_INET or AF_INET6. */
  int family;
  /* A udp socket connected to its peer: sends carry no address. */
  int connected;
  uint32_t port;
  napi_env env;
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref self;
  napi_async_context async;
  int closed;
  /* Inside a call into JavaScript: references are released after it returns. */
  int in_callback;
  int refs_pending_release;
  /* The struct is freed when both the poll handle has closed and the JS wrapper is gone. */
  int owners;
  size_t max_message; /* netlink: nlmsghdr + largest frame; udp: largest frame */
  uint8_t *batch;
  size_t batch_capacity;
  uint32_t meta[MAX_BATCH * 3];
  /* sendBatch's scratch: one nlmsghdr, two iovecs, one address and one mmsghdr per message. */
  struct nlmsghdr out_headers[MAX_BATCH];
  struct iovec out_iov[MAX_BATCH * 2];
  dg_address out_to[MAX_BATCH];
  struct mmsghdr out_msgs[MAX_BATCH];
} nl_socket;

/* ---------- errors ---------- */

static const char *errno_name(int error) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(error);
  if (name != NULL) return name;
#endif
  switch (error) {
    case EACCES: return "EACCES";
    case EADDRINUSE: return "EADDRINUSE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EINVAL: return "EINVAL";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EMFILE: return "EMFILE";
    case EMSGSIZE: return "EMSGSIZE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, int error, const char *syscall) {
  char message[160];
  snprintf(message, sizeof message, "%s %s (%s)", syscall, errno_name(error), strerror(error));
  napi_value code, text, err, number, call;
  napi_create_string_utf8(env, errno_name(error), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_create_int32(env, -error, &number);
  napi_set_named_property(env, err, "errno", number);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &call);
  napi_set_named_property(env, err, "syscall", call);
  napi_throw(env, err);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

#define CHECK(call)                                             \
  do {                                                          \
    if ((call) != napi_ok) return throw_type(env, #call " failed"); \
  } while (0)

/* ---------- lifetime ---------- */

static void release(nl_socket *sock) {
  if (--sock->owners > 0) return;
  free(sock->batch);
  free(sock);
}

static void on_poll_closed(uv_handle_t *handle) {
  release((nl_socket *)handle->data);
}

static void cleanup_hook(void *data);

/* Releases what ties the socket to JavaScript: the callbacks, the wrapper, the async context. */
static void release_js(nl_socket *sock) {
  napi_delete_reference(sock->env, sock->on_batch);
  napi_delete_reference(sock->env, sock->on_error);
  napi_delete_reference(sock->env, sock->self);
  napi_async_destroy(sock->env, sock->async);
}

/* Stops reading and closes the descriptor; the struct lives on until its owners let go. */
static void shut(nl_socket *sock, int from_cleanup_hook) {
  if (sock->closed) return;
  sock->closed = 1;
  uv_poll_stop(&sock->poll);
  uv_close((uv_handle_t *)&sock->poll, on_poll_closed);
  close(sock->fd);
  sock->fd = -1;
  if (!from_cleanup_hook) napi_remove_env_cleanup_hook(sock->env, cleanup_hook, sock);
  if (sock->in_callback) sock->refs_pending_release = 1;
  else release_js(sock);
}

static void cleanup_hook(void *data) {
  shut((nl_socket *)data, 1);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release((nl_socket *)data);
}

/* ---------- receiving ---------- */

static void call_js(nl_socket *sock, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = sock->env;
  napi_value callback, resource, result;
  if (napi_get_reference_value(env, ref, &callback) != napi_ok || callback == NULL) return;
  if (napi_get_reference_value(env, sock->self, &resource) != napi_ok || resource == NULL) return;
  sock->in_callback = 1;
  napi_status status = napi_make_callback(env, sock->async, resource, callback, argc, argv, &result);
  sock->in_callback = 0;
  if (sock->refs_pending_release) {
    sock->refs_pending_release = 0;
    release_js(sock);
  }
  bool pending = false;
  if (status != napi_ok && napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

static void deliver(nl_socket *sock, size_t used, uint32_t count) {
  napi_env env = sock->env;
  napi_value argv[3], meta_buffer;
  void *data;
  void *meta;
  if (napi_create_buffer_copy(env, used, sock->batch, &data, &argv[0]) != napi_ok) return;
  if (napi_create_arraybuffer(env, count * 3 * sizeof(uint32_t), &meta, &meta_buffer) != napi_ok) return;
  memcpy(meta, sock->meta, count * 3 * sizeof(uint32_t));
  if (napi_create_typedarray(env, napi_uint32_array, count * 3, meta_buffer, 0, &argv[1]) != napi_ok) return;
  napi_create_uint32(env, count, &argv[2]);
  call_js(sock, sock->on_batch, 3, argv);
}

static void report_error(nl_socket *sock, int error) {
  napi_value argv[1];
  napi_create_string_utf8(sock->env, errno_name(error), NAPI_AUTO_LENGTH, &argv[0]);
  call_js(sock, sock->on_error, 1, argv);
}

/* Hands `count` messages of the batch (`used` bytes) to JavaScript. */
static void deliver_batch(nl_socket *sock, size_t used, uint32_t count) {
  if (count == 0) return;
  napi_handle_scope scope;
  napi_open_handle_scope(sock->env, &scope);
  deliver(sock, used, count);
  napi_close_handle_scope(sock->env, scope);
}

/* Netlink: reads one batch; returns 1 when more may be waiting, 0 when drained, -errno on failure. */
static int read_netlink_batch(nl_socket *sock) {
  size_t used = 0;
  uint32_t count = 0;
  int more = 1;
  int failure = 0;
  while (count < MAX_BATCH && sock->batch_capacity - used >= sock->max_message) {
    struct sockaddr_nl from;
    struct iovec iov = {.iov_base = sock->batch + used, .iov_len = sock->max_message};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(sock->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) failure = errno;
      more = 0;
      break;
    }
    if (msg.msg_flags & MSG_TRUNC) continue;
    const struct nlmsghdr *header = (const struct nlmsghdr *)(sock->batch + used);
    if ((size_t)n < NLMSG_HDRLEN || header->nlmsg_len != (uint32_t)n || header->nlmsg_type != MSF_NLMSG_TYPE ||
        from.nl_pid == 0) {
      continue;
    }
    sock->meta[count * 3] = from.nl_pid;
    sock->meta[count * 3 + 1] = (uint32_t)(used + NLMSG_HDRLEN);
    sock->meta[count * 3 + 2] = (uint32_t)(n - NLMSG_HDRLEN);
    count++;
    /* Keep frames 8-byte aligned in the batch: the next nlmsghdr must be aligned. */
    used += ((size_t)n + 7) & ~(size_t)7;
  }
  deliver_batch(sock, used, count);
  if (failure != 0) return -failure;
  return more;
}

/* Udp: the same, each frame after its sender's address (UDP_PREFIX bytes). */
static int read_udp_batch(nl_socket *sock) {
  size_t used = 0;
  uint32_t count = 0;
  int more = 1;
  int failure = 0;
  while (count < MAX_BATCH && sock->batch_capacity - used >= UDP_PREFIX + sock->max_message) {
    dg_address from;
    uint8_t *prefix = sock->batch + used;
    struct iovec iov = {.iov_base = prefix + UDP_PREFIX, .iov_len = sock->max_message};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(sock->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) failure = errno;
      more = 0;
      break;
    }
    if (msg.msg_flags & MSG_TRUNC) continue;
    uint32_t port;
    memset(prefix, 0, UDP_PREFIX);
    if (from.in4.sin_family == AF_INET) {
      memcpy(prefix, &from.in4.sin_addr, 4);
      port = ntohs(from.in4.sin_port);
    } else if (from.in6.sin6_family == AF_INET6) {
      memcpy(prefix, &from.in6.sin6_addr, 16);
      uint32_t scope = from.in6.sin6_scope_id;
      for (int k = 0; k < 4; k++) prefix[16 + k] = (uint8_t)(scope >> (8 * k));
      port = ntohs(from.in6.sin6_port);
    } else {
      continue;
    }
    sock->meta[count * 3] = port;
    sock->meta[count * 3 + 1] = (uint32_t)(used + UDP_PREFIX);
    sock->meta[count * 3 + 2] = (uint32_t)n;
    count++;
    used += (UDP_PREFIX + (size_t)n + 7) & ~(size_t)7;
  }
  deliver_batch(sock, used, count);
  if (failure != 0) return -failure;
  return more;
}

static int read_batch(nl_socket *sock) {
  return sock->family == AF_NETLINK ? read_netlink_batch(sock) : read_udp_batch(sock);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  nl_socket *sock = (nl_socket *)handle->data;
  if (sock->closed) return;
  if (status < 0) {
    /* libuv reports POLLERR as UV_EBADF and stops the handle: the socket's pending error says what
     * happened. A netlink overrun (ENOBUFS: the kernel dropped messages) is not fatal: reading
     * goes on and retransmission covers the loss. Anything else (a connected udp socket's
     * ECONNREFUSED) is reported, and the socket stays stopped. */
    int error = -status;
    int pending = 0;
    socklen_t length = sizeof pending;
    if (status == UV_EBADF && getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 && pending != 0) error = pending;
    if (error == ENOBUFS && sock->family == AF_NETLINK) {
      uv_poll_start(&sock->poll, UV_READABLE, on_readable);
    } else {
      napi_handle_scope scope;
      napi_open_handle_scope(sock->env, &scope);
      uv_poll_stop(&sock->poll);
      report_error(sock, error);
      napi_close_handle_scope(sock->env, scope);
      return;
    }
  }
  for (int i = 0; i < MAX_BATCHES_PER_EVENT && !sock->closed; i++) {
    int outcome = read_batch(sock);
    if (outcome == 1) continue;
    if (outcome < 0 && !sock->closed) {
      napi_handle_scope scope;
      napi_open_handle_scope(sock->env, &scope);
      uv_poll_stop(&sock->poll);
      report_error(sock, -outcome);
      napi_close_handle_scope(sock->env, scope);
    }
    break;
  }
}

/* ---------- exported functions ---------- */

static nl_socket *unwrap(napi_env env, napi_value handle) {
  void *data = NULL;
  if (napi_unwrap(env, handle, &data) != napi_ok || data == NULL) {
    throw_type(env, "expected a netlink socket handle from open()");
    return NULL;
  }
  return (nl_socket *)data;
}

static int get_u32(napi_env env, napi_value value, uint32_t *out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) return 0;
  if (!(number >= 0 && number <= 4294967295.0) || number != (double)(uint32_t)number) return 0;
  *out = (uint32_t)number;
  return 1;
}

static int check_callbacks(napi_env env, napi_value *callbacks) {
  napi_valuetype type;
  for (int i = 0; i < 2; i++) {
    if (napi_typeof(env, callbacks[i], &type) != napi_ok || type != napi_function) {
      throw_type(env, "open(): onBatch and onError must be functions");
      return 0;
    }
  }
  return 1;
}

/* SO_SNDBUF and SO_RCVBUF, best effort: the kernel caps both at net.core.{w,r}mem_max; what it set is reported back. */
static void size_buffers(int fd, uint32_t buffer_bytes) {
  int size = buffer_bytes > (uint32_t)INT32_MAX ? INT32_MAX : (int)buffer_bytes;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

/*
 * Wraps an open, bound descriptor into a handle (closing it on failure): the struct, its batch
 * buffer, the poll handle on this thread's loop, the JS object and references; starts reading.
 */
static napi_value wrap_socket(napi_env env, int fd, int family, int connected, uint32_t port, size_t max_message,
                              napi_value *callbacks, const char *resource) {
  int send_buffer = 0, receive_buffer = 0;
  socklen_t option_length = sizeof send_buffer;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, &option_length);
  option_length = sizeof receive_buffer;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, &option_length);

  nl_socket *sock = calloc(1, sizeof *sock);
  if (sock == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "calloc");
  }
  sock->fd = fd;
  sock->family = family;
  sock->connected = connected;
  sock->port = port;
  sock->env = env;
  sock->max_message = max_message;
  sock->batch_capacity = sock->max_message * 4 > MIN_BATCH_BYTES ? sock->max_message * 4 : MIN_BATCH_BYTES;
  sock->batch = malloc(sock->batch_capacity);
  if (sock->batch == NULL) {
    free(sock);
    close(fd);
    return throw_errno(env, ENOMEM, "malloc");
  }

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init_socket(loop, &sock->poll, fd) != 0) {
    free(sock->batch);
    free(sock);
    close(fd);
    return throw_type(env, "open(): cannot watch the socket on this thread's event loop");
  }
  sock->poll.data = sock;
  sock->owners = 2; /* the poll handle and the JS wrapper */

  napi_value handle, value, name;
  CHECK(napi_create_object(env, &handle));
  CHECK(napi_wrap(env, handle, sock, finalize, NULL, NULL));
  CHECK(napi_create_uint32(env, sock->port, &value));
  CHECK(napi_set_named_property(env, handle, "port", value));
  CHECK(napi_create_int32(env, send_buffer, &value));
  CHECK(napi_set_named_property(env, handle, "sendBufferBytes", value));
  CHECK(napi_create_int32(env, receive_buffer, &value));
  CHECK(napi_set_named_property(env, handle, "receiveBufferBytes", value));
  CHECK(napi_create_reference(env, callbacks[0], 1, &sock->on_batch));
  CHECK(napi_create_reference(env, callbacks[1], 1, &sock->on_error));
  CHECK(napi_create_reference(env, handle, 1, &sock->self));
  CHECK(napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, handle, name, &sock->async));
  CHECK(napi_add_env_cleanup_hook(env, cleanup_hook, sock));
  uv_poll_start(&sock->poll, UV_READABLE, on_readable);
  return handle;
}

static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t port, max_frame, buffer_bytes;
  if (argc < 5 || !get_u32(env, argv[0], &port) || !get_u32(env, argv[1], &max_frame) ||
      !get_u32(env, argv[2], &buffer_bytes)) {
    return throw_type(env, "open(portId, maxFrameBytes, bufferBytes, onBatch, onError): expected three u32 and two functions");
  }
  if (!check_callbacks(env, argv + 3)) return NULL;
  if (max_frame == 0 || max_frame > (1u << 30)) return throw_type(env, "open(): maxFrameBytes must be 1..2^30");

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_USERSOCK);
  if (fd < 0) return throw_errno(env, errno, "socket");
  size_buffers(fd, buffer_bytes);
  struct sockaddr_nl address = {.nl_family = AF_NETLINK, .nl_pid = port, .nl_groups = 0};
  if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, error, "bind");
  }
  socklen_t length = sizeof address;
  if (getsockname(fd, (struct sockaddr *)&address, &length) < 0) {
    int error = errno;
    close(fd);
    return throw_errno(env, error, "getsockname");
  }
  size_t max_message = (((size_t)max_frame + NLMSG_HDRLEN) + 7) & ~(size_t)7;
  return wrap_socket(env, fd, AF_NETLINK, 0, address.nl_pid, max_message, argv + 3, "msf:netlink");
}

/* A numeric address and port as a socket address; 0 (TypeError thrown) when it is not one. */
static int udp_address(napi_env env, napi_value text, uint32_t port, dg_address *out, socklen_t *length) {
  char host[64];
  size_t host_length;
  napi_valuetype type;
  if (napi_typeof(env, text, &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, text, host, sizeof host, &host_length) != napi_ok || host_length == 0 ||
      host_length >= sizeof host - 1 || port > 65535) {
    throw_type(env, "openUdp(): addresses must be numeric IPv4 or IPv6 strings and ports 0..65535");
    return 0;
  }
  char service[8];
  snprintf(service, sizeof service, "%u", port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  struct addrinfo *found = NULL;
  if (getaddrinfo(host, service, &hints, &found) != 0 || found == NULL || found->ai_addrlen > sizeof *out) {
    if (found != NULL) freeaddrinfo(found);
    throw_type(env, "openUdp(): addresses must be numeric IPv4 or IPv6 strings");
    return 0;
  }
  memset(out, 0, sizeof *out);
  memcpy(out, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  freeaddrinfo(found);
  return 1;
}

static napi_value open_udp(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t bind_port, peer_port, max_frame, buffer_bytes;
  if (argc < 8 || !get_u32(env, argv[1], &bind_port) || !get_u32(env, argv[3], &peer_port) || !get_u32(env, argv[4], &max_frame) ||
      !get_u32(env, argv[5], &buffer_bytes)) {
    return throw_type(env,
                      "openUdp(bindAddress, bindPort, peerAddress, peerPort, maxFrameBytes, bufferBytes, onBatch, onError): "
                      "expected a string, a u32, a string, three u32 and two functions");
  }
  if (!check_callbacks(env, argv + 6)) return NULL;
  if (max_frame == 0 || max_frame > 65535) return throw_type(env, "openUdp(): maxFrameBytes must be 1..65535");
  dg_address local;
  socklen_t local_length;
  if (!udp_address(env, argv[0], bind_port, &local, &local_length)) return NULL;
  dg_address peer;
  socklen_t peer_length = 0;
  size_t peer_text_length = 0;
  if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &peer_text_length) != napi_ok) {
    return throw_type(env, "openUdp(): peerAddress must be a string");
  }
  int connected = peer_text_length > 0;
  if (connected && !udp_address(env, argv[2], peer_port, &peer, &peer_length)) return NULL;
  int family = local.in4.sin_family;
  if (connected && peer.in4.sin_family != family) return throw_type(env, "openUdp(): bind and peer addresses must be of one family");

  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  size_buffers(fd, buffer_bytes);
  const char *failed = NULL;
  if (bind(fd, (struct sockaddr *)&local, local_length) < 0) failed = "bind";
  else if (connected && connect(fd, (struct sockaddr *)&peer, peer_length) < 0) failed = "connect";
  dg_address bound;
  socklen_t bound_length = sizeof bound;
  if (failed == NULL && getsockname(fd, (struct sockaddr *)&bound, &bound_length) < 0) failed = "getsockname";
  if (failed != NULL) {
    int error = errno;
    close(fd);
    return throw_errno(env, error, failed);
  }
  uint32_t port = ntohs(family == AF_INET ? bound.in4.sin_port : bound.in6.sin6_port);
  return wrap_socket(env, fd, family, connected, port, max_frame, argv + 6, "msf:udp");
}

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "sendBatch(handle, ports, frames, count, results, addresses?): five arguments expected");
  nl_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL) return NULL;
  uint32_t count;
  if (!get_u32(env, argv[3], &count) || count > MAX_BATCH) return throw_type(env, "sendBatch(): count must be 0..256");
  napi_typedarray_type type;
  size_t length;
  void *data;
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (!is_typed) return throw_type(env, "sendBatch(): ports must be a Uint32Array");
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL));
  if (type != napi_uint32_array || length < count) return throw_type(env, "sendBatch(): ports must be a Uint32Array of count entries");
  const uint32_t *ports = (const uint32_t *)data;
  napi_is_typedarray(env, argv[4], &is_typed);
  if (!is_typed) return throw_type(env, "sendBatch(): results must be an Int32Array");
  CHECK(napi_get_typedarray_info(env, argv[4], &type, &length, &data, NULL, NULL));
  if (type != napi_int32_array || length < count) return throw_type(env, "sendBatch(): results must be an Int32Array of count entries");
  int32_t *results = (int32_t *)data;
  const uint8_t *addresses = NULL;
  int udp_unconnected = sock->family != AF_NETLINK && !sock->connected;
  if (udp_unconnected) {
    if (argc < 6) return throw_type(env, "sendBatch(): an unconnected udp socket needs the addresses");
    napi_is_typedarray(env, argv[5], &is_typed);
    if (!is_typed) return throw_type(env, "sendBatch(): addresses must be a Uint8Array");
    CHECK(napi_get_typedarray_info(env, argv[5], &type, &length, &data, NULL, NULL));
    if (type != napi_uint8_array || length < (size_t)count * UDP_PREFIX) {
      return throw_type(env, "sendBatch(): addresses must be a Uint8Array of 24 bytes per frame");
    }
    addresses = (const uint8_t *)data;
  }
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array) return throw_type(env, "sendBatch(): frames must be an array of Uint8Array");
  for (uint32_t i = 0; i < count; i++) {
    napi_value frame;
    CHECK(napi_get_element(env, argv[2], i, &frame));
    napi_is_typedarray(env, frame, &is_typed);
    if (!is_typed) return throw_type(env, "sendBatch(): frames must be an array of Uint8Array");
    CHECK(napi_get_typedarray_info(env, frame, &type, &length, &data, NULL, NULL));
    if (type != napi_uint8_array) return throw_type(env, "sendBatch(): frames must be an array of Uint8Array");
    if (sock->family != AF_NETLINK) {
      struct msghdr *header = &sock->out_msgs[i].msg_hdr;
      sock->out_iov[i * 2] = (struct iovec){.iov_base = data, .iov_len = length};
      *header = (struct msghdr){.msg_name = NULL, .msg_namelen = 0, .msg_iov = &sock->out_iov[i * 2], .msg_iovlen = 1};
      sock->out_msgs[i].msg_len = 0;
      if (udp_unconnected) {
        const uint8_t *at = addresses + (size_t)i * UDP_PREFIX;
        dg_address *to = &sock->out_to[i];
        memset(to, 0, sizeof *to);
        if (sock->family == AF_INET) {
          to->in4.sin_family = AF_INET;
          to->in4.sin_port = htons((uint16_t)ports[i]);
          memcpy(&to->in4.sin_addr, at, 4);
          header->msg_namelen = sizeof to->in4;
        } else {
          to->in6.sin6_family = AF_INET6;
          to->in6.sin6_port = htons((uint16_t)ports[i]);
          memcpy(&to->in6.sin6_addr, at, 16);
          to->in6.sin6_scope_id = (uint32_t)at[16] | ((uint32_t)at[17] << 8) | ((uint32_t)at[18] << 16) | ((uint32_t)at[19] << 24);
          header->msg_namelen = sizeof to->in6;
        }
        header->msg_name = to;
      }
      continue;
    }
    sock->out_headers[i] = (struct nlmsghdr){
        .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + length),
        .nlmsg_type = MSF_NLMSG_TYPE,
        .nlmsg_flags = 0,
        .nlmsg_seq = 0,
        .nlmsg_pid = sock->port,
    };
    sock->out_to[i].nl = (struct sockaddr_nl){.nl_family = AF_NETLINK, .nl_pid = ports[i], .nl_groups = 0};
    sock->out_iov[i * 2] = (struct iovec){.iov_base = &sock->out_headers[i], .iov_len = NLMSG_HDRLEN};
    sock->out_iov[i * 2 + 1] = (struct iovec){.iov_base = data, .iov_len = length};
    sock->out_msgs[i] = (struct mmsghdr){
        .msg_hdr = {.msg_name = &sock->out_to[i], .msg_namelen = sizeof(struct sockaddr_nl), .msg_iov = &sock->out_iov[i * 2], .msg_iovlen = 2},
        .msg_len = 0,
    };
  }
  uint32_t failed = 0;
  uint32_t at = 0;
  while (at < count) {
    if (sock->closed) {
      results[at++] = EBADF;
      failed++;
      continue;
    }
    int sent = sendmmsg(sock->fd, &sock->out_msgs[at], count - at, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      /* The message at `at` failed: note why and go on with the next. */
      results[at++] = errno;
      failed++;
      continue;
    }
    for (int k = 0; k < sent; k++) results[at++] = 0;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, failed, &result));
  return result;
}

static napi_value ref_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "ref(handle, ref): two arguments expected");
  nl_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL) return NULL;
  bool ref;
  if (napi_get_value_bool(env, argv[1], &ref) != napi_ok) return throw_type(env, "ref(): ref must be a boolean");
  if (!sock->closed) {
    if (ref) uv_ref((uv_handle_t *)&sock->poll);
    else uv_unref((uv_handle_t *)&sock->poll);
  }
  return NULL;
}

static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "close(handle): one argument expected");
  nl_socket *sock = unwrap(env, argv[0]);
  if (sock == NULL) return NULL;
  shut(sock, 0);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor functions[] = {
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
      {"openUdp", NULL, open_udp, NULL, NULL, NULL, napi_default, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, ref_socket, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
