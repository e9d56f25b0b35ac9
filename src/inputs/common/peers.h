// Which peer each event of a network batch came from. A batch mixes the
// events of many connections (or datagram senders), so the input thread
// adds each peer to the batch's table once and puts the peer's place in
// the table in the event's `offset`. The table travels in batch.source
// (fixed-size records; no allocation once warm) to decorate(), on a
// pipeline worker, which makes one frozen `source` object per peer
// ({"ip", "port"}, and `tls.client.subject` when the client sent a
// certificate) and then clears batch.source and the offsets: a network
// event has no replayable position, so no output may take the batch for a
// source with offsets (Elasticsearch's document_id: auto needs one).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "inputs/common/net_address.h"

namespace bifrost::inputs {

// Adds a peer to the batch's table; returns what the events of this peer
// carry in `offset`.
std::uint64_t add_peer(core::Batch& batch, const PeerAddr& peer, std::string_view tls_subject = {});

struct PeerFields {
  std::uint64_t key;   // what add_peer returned
  core::Value source;  // {"ip": ..., "port": ...}, frozen
  core::Value tls;     // {"client": {"subject": ...}}, frozen; null without a certificate
};

// decorate(): the peers of the batch, in the order they were added (so by
// key), into `out` (cleared first); batch.source is cleared.
void take_peers(core::Batch& batch, std::vector<PeerFields>& out);

// The peer of key `key` in `peers` (sorted by key); the last one found is
// tried first, as consecutive events mostly share their peer.
const PeerFields* find_peer(const std::vector<PeerFields>& peers, std::uint64_t key, std::size_t& hint);

// Sets `source` (and `tls`, when the peer sent a certificate) on `e`.
void set_peer_fields(core::Batch& batch, core::Event& e, const PeerFields& p);

}  // namespace bifrost::inputs
