/*
 * netlink: Linux NETLINK_USERSOCK datagram sockets for msf's netlink:// transport
 * (runtime/transport/netlink.ts, datagram-netlink-socket.ts). Node-API only, so one build loads
 * on every Node version >= 20.19, in the main thread and in worker threads alike.
 *
 * Each socket is AF_NETLINK / SOCK_RAW / NETLINK_USERSOCK, non-blocking and close-on-exec, bound
 * to a port id (nl_pid; 0 = let the kernel choose one). Every message carries a struct nlmsghdr
 * followed by exactly one msf frame: nlmsg_len = 16 + frame bytes, nlmsg_type = MSF_NLMSG_TYPE
 * (0x4D53, "MS"), nlmsg_flags = 0, nlmsg_seq = 0, nlmsg_pid = the sender's port id. The header
 * is added here on send and checked and removed here on receive; JavaScript sees frames only.
 *
 * Input is read when libuv reports the descriptor readable (a uv_poll_t on the thread's own
 * loop): up to MAX_BATCH messages are read with recvmsg(2), copied into one new Buffer, and
 * handed to JavaScript in a single call, onBatch(data, meta, count), where meta holds three
 * u32 per message: sender port id, offset of the frame in data, frame length. Messages that
 * cannot be an msf frame (truncated, a bad nlmsghdr, sent by the kernel) are skipped, and so is
 * a receive buffer overrun (ENOBUFS: the kernel dropped messages; retransmission covers them).
 *
 * Exported functions (errors the system reports throw an Error whose `code` is the errno name,
 * e.g. "EADDRINUSE", with `errno` and `syscall` set; wrong argument types throw TypeError):
 *
 *   open(portId: number, maxFrameBytes: number, bufferBytes: number,
 *        onBatch: (data: Buffer, meta: Uint32Array, count: number) => void,
 *        onError: (code: string) => void): object
 *       Creates, sizes (SO_SNDBUF and SO_RCVBUF = bufferBytes, as far as the system allows)
 *       and binds a socket. The object returned is the handle for the functions below and has
 *       `port` (the port id bound), `sendBufferBytes` and `receiveBufferBytes` (as the kernel
 *       set them). onError is called when reading fails for a reason other than "nothing more"
 *       or an overrun; the socket stops reading then.
 *   sendBatch(handle, ports: Uint32Array, frames: Uint8Array[], count: number, results: Int32Array): number
 *       Sends frames[i] to ports[i] for i < count (at most 256) with sendmmsg(2), in order, without
 *       waiting; results[i] = 0 when the kernel took frame i, else its errno (positive): ECONNREFUSED
 *       when no socket is bound to that port id, EAGAIN when the receiver's buffer is full, EMSGSIZE
 *       when larger than this socket's send buffer allows. Returns how many failed.
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

typedef struct nl_socket {
  uv_poll_t poll;
  int fd;
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
  size_t max_message; /* nlmsghdr + largest frame */
  uint8_t *batch;
  size_t batch_capacity;
  uint32_t meta[MAX_BATCH * 3];
  /* sendBatch's scratch: one nlmsghdr, two iovecs, one address and one mmsghdr per message. */
  struct nlmsghdr out_headers[MAX_BATCH];
  struct iovec out_iov[MAX_BATCH * 2];
  struct sockaddr_nl out_to[MAX_BATCH];
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
    case EMFILE: return "EMFILE";
    case EMSGSIZE: return "EMSGSIZE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
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

/* Reads one batch; returns 1 when more may be waiting, 0 when drained, -errno on failure. */
static int read_batch(nl_socket *sock) {
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
  if (count > 0) {
    napi_handle_scope scope;
    napi_open_handle_scope(sock->env, &scope);
    deliver(sock, used, count);
    napi_close_handle_scope(sock->env, scope);
  }
  if (failure != 0) return -failure;
  return more;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  nl_socket *sock = (nl_socket *)handle->data;
  if (sock->closed) return;
  if (status < 0) {
    napi_handle_scope scope;
    napi_open_handle_scope(sock->env, &scope);
    uv_poll_stop(&sock->poll);
    report_error(sock, -status);
    napi_close_handle_scope(sock->env, scope);
    return;
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

static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t port, max_frame, buffer_bytes;
  if (argc < 5 || !get_u32(env, argv[0], &port) || !get_u32(env, argv[1], &max_frame) ||
      !get_u32(env, argv[2], &buffer_bytes)) {
    return throw_type(env, "open(portId, maxFrameBytes, bufferBytes, onBatch, onError): expected three u32 and two functions");
  }
  napi_valuetype type;
  for (int i = 3; i < 5; i++) {
    CHECK(napi_typeof(env, argv[i], &type));
    if (type != napi_function) return throw_type(env, "open(): onBatch and onError must be functions");
  }
  if (max_frame == 0 || max_frame > (1u << 30)) return throw_type(env, "open(): maxFrameBytes must be 1..2^30");

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_USERSOCK);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int size = buffer_bytes > (uint32_t)INT32_MAX ? INT32_MAX : (int)buffer_bytes;
  /* Best effort: the kernel caps both at net.core.{w,r}mem_max; what it set is reported back. */
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
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
  sock->port = address.nl_pid;
  sock->env = env;
  sock->max_message = (((size_t)max_frame + NLMSG_HDRLEN) + 7) & ~(size_t)7;
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
  CHECK(napi_create_reference(env, argv[3], 1, &sock->on_batch));
  CHECK(napi_create_reference(env, argv[4], 1, &sock->on_error));
  CHECK(napi_create_reference(env, handle, 1, &sock->self));
  CHECK(napi_create_string_utf8(env, "msf:netlink", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, handle, name, &sock->async));
  CHECK(napi_add_env_cleanup_hook(env, cleanup_hook, sock));
  uv_poll_start(&sock->poll, UV_READABLE, on_readable);
  return handle;
}

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "sendBatch(handle, ports, frames, count, results): five arguments expected");
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
    sock->out_headers[i] = (struct nlmsghdr){
        .nlmsg_len = (uint32_t)(NLMSG_HDRLEN + length),
        .nlmsg_type = MSF_NLMSG_TYPE,
        .nlmsg_flags = 0,
        .nlmsg_seq = 0,
        .nlmsg_pid = sock->port,
    };
    sock->out_to[i] = (struct sockaddr_nl){.nl_family = AF_NETLINK, .nl_pid = ports[i], .nl_groups = 0};
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
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_default, NULL},
      {"ref", NULL, ref_socket, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
