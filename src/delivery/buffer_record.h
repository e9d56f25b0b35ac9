// The disk buffer's record: one event in a compact binary form, framed and
// checksummed. Binary rather than JSON because the buffer is written and
// read back on the hot path: no escaping on the way in, no parsing on the way
// out (strings are used where they lie in the read chunk). The buffer never
// leaves the host, so integers are in the host's byte order.
//
//   record  = u32 payload length | u32 CRC-32C of the payload | payload
//   payload = i64 timestamp_ns | u64 offset | u64 source_id | str source
//             | str message | value fields
//   str     = u32 length | bytes
//   value   = u8 kind | nothing (null) | u8 (bool) | i64 (int) | f64 (double)
//             | str (string) | u32 n, n values (array) | u32 n, n × (str key, value) (object)
//
// Each record carries its source (identity and offset), so an output that
// derives ids from them (Elasticsearch's `document_id: auto`) gives the same
// ids to events replayed from the buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/batch.h"
#include "delivery/errors.h"

namespace bifrost::delivery {

constexpr std::size_t kRecordHeader = 8;

// Appends the record of `e` (an event of `batch`) to `out`.
void append_buffer_record(std::string& out, const core::Batch& batch, const core::Event& e);

// Encodes the slot's selected events as records into slot.encoded (ends
// filled as for any output): what the disk buffer's writer appends. Run by
// the pipeline's workers, in parallel.
void encode_buffer_records(const core::Batch& batch, core::OutputSlot& slot);

struct RecordHeader {
  std::uint32_t length = 0;  // of the payload
  std::uint32_t crc = 0;     // of the payload
};

// Reads the header at the start of `bytes`. kShort when fewer than
// kRecordHeader bytes are given.
Result<RecordHeader> read_record_header(std::string_view bytes);
// A predicate, not a fallible step: whether `payload` is what `crc` sums.
bool checksum_matches(std::string_view payload, std::uint32_t crc);

struct RecordSource {
  std::uint64_t id = 0;
  std::string_view name;
};

// Decodes a payload into `e`: strings point into `payload` (which must live
// as long as the event), arrays and objects are allocated in `arena`.
// kCorrupt (and `e` partly filled) when the payload is malformed; never
// reads outside it.
Result<void> decode_buffer_record(std::string_view payload, core::Event& e, RecordSource& source, core::Arena& arena);

}  // namespace bifrost::delivery
