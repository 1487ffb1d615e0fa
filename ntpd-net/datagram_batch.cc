// recvmmsg/sendmmsg rounds over preallocated storage (see datagram_batch.h).
// The control-message parsing is the same as for one datagram: the kernel
// receive time and the local address the request was sent to.
#include "ntpd-net/datagram_batch.h"

#include <netinet/in.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "ntpd-net/tx_timestamps.h"
#include "ntpd-net/udp_io.h"

namespace ntpd::net {
namespace {

// Where the request was addressed, carried into the reply's control data.
struct LocalAddress {
  bool v4 = false;
  bool v6 = false;
  in_pktinfo info4{};
  in6_pktinfo info6{};
};

void parse_control(const msghdr& msg, common::UnixNs* received, LocalAddress* local) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
        c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *received = common::UnixNs{ts.tv_sec * common::kNsPerSecond + ts.tv_nsec};
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
               c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
      std::memcpy(&local->info4, CMSG_DATA(c), sizeof local->info4);
      local->v4 = true;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
               c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
      std::memcpy(&local->info6, CMSG_DATA(c), sizeof local->info6);
      local->v6 = true;
    }
  }
}

// Builds control data so the reply leaves from the address the request
// came to (RFC 5905 clients match replies on the server address).
std::size_t build_reply_control(const LocalAddress& local, std::span<std::uint8_t> space) {
  msghdr msg{};
  msg.msg_control = space.data();
  msg.msg_controllen = space.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr) return 0;
  if (local.v4) {
    in_pktinfo info{};
    info.ipi_spec_dst = local.info4.ipi_addr;
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    return CMSG_SPACE(sizeof info);
  }
  if (local.v6) {
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof local.info6);
    std::memcpy(CMSG_DATA(c), &local.info6, sizeof local.info6);
    return CMSG_SPACE(sizeof local.info6);
  }
  return 0;
}

}  // namespace

struct DatagramBatch::Storage {
  struct Slot {
    std::array<std::uint8_t, kMaxDatagram> request;
    std::array<std::uint8_t, kMaxDatagram> reply;
    sockaddr_storage from;
    alignas(cmsghdr) std::array<std::uint8_t, 256> control;
    alignas(cmsghdr) std::array<std::uint8_t, 96> reply_control;
    std::size_t reply_control_length = 0;
    iovec request_iov;
    iovec reply_iov;
    common::UnixNs received;
    ReplyNote note;
    std::size_t reply_length;
  };
  std::array<Slot, kBatchSize> slots;
  std::array<mmsghdr, kBatchSize> in;
  std::array<mmsghdr, kBatchSize> out;
};

DatagramBatch::DatagramBatch() : storage_(std::make_unique<Storage>()) {
  for (int i = 0; i < kBatchSize; ++i) {
    auto& slot = storage_->slots[i];
    slot.request_iov = {slot.request.data(), slot.request.size()};
    msghdr& msg = storage_->in[i].msg_hdr;
    msg = msghdr{};
    msg.msg_name = &slot.from;
    msg.msg_iov = &slot.request_iov;
    msg.msg_iovlen = 1;
    msg.msg_control = slot.control.data();
  }
}

DatagramBatch::~DatagramBatch() = default;

int DatagramBatch::receive(int fd) {
  count_ = 0;
  // The kernel shrinks these to what each message used: restore them.
  for (int i = 0; i < kBatchSize; ++i) {
    auto& slot = storage_->slots[i];
    msghdr& msg = storage_->in[i].msg_hdr;
    msg.msg_namelen = sizeof slot.from;
    msg.msg_controllen = slot.control.size();
    msg.msg_flags = 0;
    storage_->in[i].msg_len = 0;
  }
  const int n = ::recvmmsg(fd, storage_->in.data(), kBatchSize, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  common::UnixNs fallback{};
  for (int i = 0; i < n; ++i) {
    auto& slot = storage_->slots[i];
    slot.received = common::UnixNs{};
    slot.reply_length = 0;
    slot.note = ReplyNote{};
    LocalAddress local;
    parse_control(storage_->in[i].msg_hdr, &slot.received, &local);
    if (slot.received.ns == 0) {
      if (fallback.ns == 0) fallback = realtime_now();
      slot.received = fallback;
    }
    const std::size_t control_length = build_reply_control(local, slot.reply_control);
    slot.reply_control_length = control_length;
    slot.reply_iov = {slot.reply.data(), 0};
    msghdr& out = storage_->out[i].msg_hdr;
    out = msghdr{};
    out.msg_name = &slot.from;
    out.msg_namelen = storage_->in[i].msg_hdr.msg_namelen;
    out.msg_iov = &slot.reply_iov;
    out.msg_iovlen = 1;
    out.msg_control = control_length > 0 ? slot.reply_control.data() : nullptr;
    out.msg_controllen = control_length;
  }
  count_ = n;
  return n;
}

std::span<const std::uint8_t> DatagramBatch::request(int i) const {
  return {storage_->slots[i].request.data(), storage_->in[i].msg_len};
}

const sockaddr_storage& DatagramBatch::from(int i) const { return storage_->slots[i].from; }

common::UnixNs DatagramBatch::received_at(int i) const { return storage_->slots[i].received; }

bool DatagramBatch::truncated(int i) const {
  return (storage_->in[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

std::span<std::uint8_t> DatagramBatch::reply_buffer(int i) { return storage_->slots[i].reply; }

ReplyNote* DatagramBatch::note(int i) { return &storage_->slots[i].note; }

void DatagramBatch::set_reply(int i, std::size_t length) {
  storage_->slots[i].reply_length = length <= kMaxDatagram ? length : 0;
}

int DatagramBatch::send(int fd, const ReplyFinalizer& finalize) {
  int sent = 0;
  int slot_index = 0;
  while (slot_index < count_) {
    // Finalize up to kSendChunk replies right before the sendmmsg that
    // carries them, compacted to the front of `out`: each transmit
    // timestamp is read at most a chunk's worth of sends before its reply
    // leaves, however many requests a batch holds.
    int pending = 0;
    for (; slot_index < count_ && pending < kSendChunk; ++slot_index) {
      const int i = slot_index;
      auto& slot = storage_->slots[i];
      if (slot.reply_length == 0) continue;
      const std::size_t length = finalize(slot.reply, slot.reply_length, slot.note);
      if (length == 0 || length > kMaxDatagram) continue;
      slot.reply_iov.iov_len = length;
      if (slot.note.xleave.interleaved) {
        // RFC 9769: the client's next request will ask when this reply left.
        msghdr& out = storage_->out[i].msg_hdr;
        out.msg_controllen =
            append_tx_timestamp_request(slot.reply_control, slot.reply_control_length);
        out.msg_control = out.msg_controllen > 0 ? slot.reply_control.data() : nullptr;
        if (out.msg_controllen > slot.reply_control_length) ++tx_requested_;
      }
      // Every entry below i has been sent or skipped already.
      if (pending != i) storage_->out[pending] = storage_->out[i];
      ++pending;
    }
    sent += send_front(fd, pending);
  }
  count_ = 0;
  return sent;
}

int DatagramBatch::send_front(int fd, int pending) {
  int sent = 0;
  int next = 0;
  while (next < pending) {
    const int n = ::sendmmsg(fd, storage_->out.data() + next, static_cast<unsigned>(pending - next),
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += n;
      next += n;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;  // socket buffer full: the rest are dropped, as a busy ntpd would
    } else {
      ++next;  // this one failed (e.g. unreachable source); try the others
    }
  }
  return sent;
}

}  // namespace ntpd::net
