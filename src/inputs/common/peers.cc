#include "inputs/common/peers.h"

#include <algorithm>
#include <cstring>

namespace bifrost::inputs {

namespace {
// record = u16 subject length | PeerAddr (19 bytes) | subject
constexpr std::size_t kAddrBytes = 1 + 2 + 16;
constexpr std::size_t kHeader = 2 + kAddrBytes;
}  // namespace

std::uint64_t add_peer(core::Batch& batch, const PeerAddr& peer, std::string_view tls_subject) {
  std::string& t = batch.source;
  const std::uint64_t key = t.size();
  const std::uint16_t slen = static_cast<std::uint16_t>(std::min<std::size_t>(tls_subject.size(), 0xFFFF));
  char rec[kHeader];
  std::memcpy(rec, &slen, 2);
  rec[2] = static_cast<char>(peer.family);
  std::memcpy(rec + 3, &peer.port, 2);
  std::memcpy(rec + 5, peer.ip, 16);
  t.append(rec, kHeader);
  t.append(tls_subject.data(), slen);
  return key;
}

void take_peers(core::Batch& batch, std::vector<PeerFields>& out) {
  out.clear();
  const std::string& t = batch.source;
  std::size_t pos = 0;
  while (pos + kHeader <= t.size()) {
    std::uint16_t slen;
    std::memcpy(&slen, t.data() + pos, 2);
    PeerAddr p;
    p.family = static_cast<std::uint8_t>(t[pos + 2]);
    std::memcpy(&p.port, t.data() + pos + 3, 2);
    std::memcpy(p.ip, t.data() + pos + 5, 16);
    char ip[64];
    const std::size_t n = p.format_ip(ip);
    core::Value src = core::Value::object(batch.arena, 2);
    src.append("ip", core::Value::string(batch.arena.copy({ip, n})), batch.arena);
    src.append("port", core::Value::integer(p.port), batch.arena);
    PeerFields f{pos, src.freeze(batch.arena), core::Value()};
    if (slen > 0 && pos + kHeader + slen <= t.size()) {
      core::Value client = core::Value::object(batch.arena, 1);
      client.append("subject", core::Value::string(batch.arena.copy({t.data() + pos + kHeader, slen})), batch.arena);
      core::Value tls = core::Value::object(batch.arena, 1);
      tls.append("client", client, batch.arena);
      f.tls = tls.freeze(batch.arena);
    }
    out.push_back(f);
    pos += kHeader + slen;
  }
  batch.source.clear();
}

const PeerFields* find_peer(const std::vector<PeerFields>& peers, std::uint64_t key, std::size_t& hint) {
  if (hint < peers.size() && peers[hint].key == key) return &peers[hint];
  auto it =
      std::lower_bound(peers.begin(), peers.end(), key, [](const PeerFields& p, std::uint64_t k) { return p.key < k; });
  if (it == peers.end() || it->key != key) return nullptr;
  hint = static_cast<std::size_t>(it - peers.begin());
  return &*it;
}

void set_peer_fields(core::Batch& batch, core::Event& e, const PeerFields& p) {
  if (!e.fields.is_object()) {
    e.fields = core::Value::object(batch.arena, 2);
    e.fields.append("source", p.source, batch.arena);
  } else {
    e.fields.set("source", p.source, batch.arena);
  }
  if (!p.tls.is_null()) e.fields.set("tls", p.tls, batch.arena);
}

}  // namespace bifrost::inputs
