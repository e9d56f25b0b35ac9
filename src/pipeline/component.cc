#include "pipeline/component.h"

#include <cstdint>

namespace bifrost::pipeline {

void select_events(const core::Batch& batch, const expr::Condition* when, std::vector<std::uint32_t>& selected) {
  selected.clear();
  const auto n = static_cast<std::uint32_t>(batch.events.size());
  for (std::uint32_t i = 0; i < n; ++i) {
    const core::Event& e = batch.events[i];
    if (!e.dropped() && (!when || when->evaluate(e))) selected.push_back(i);
  }
}

void run_filter_stage(const Filter& filter, const expr::Condition* when, core::Batch& batch,
                      std::vector<std::uint32_t>& selected) {
  select_events(batch, when, selected);
  if (!selected.empty()) filter.expand(batch, selected);
}

namespace {
// Per worker thread, reused batch after batch: swapped with batch.events,
// so a batch leaves with this thread's vector and this thread keeps the
// batch's old one for the next splice.
std::vector<core::Event>& splice_events() {
  thread_local std::vector<core::Event> v;
  return v;
}
std::vector<std::uint32_t>& splice_selection() {
  thread_local std::vector<std::uint32_t> v;
  return v;
}
}  // namespace

EventSplice::EventSplice(core::Batch& batch, std::vector<std::uint32_t>& selected)
    : batch_(batch), selected_(selected), out_(splice_events()), made_(splice_selection()) {
  out_.clear();
  made_.clear();
  out_.reserve(batch.events.size());
}

const core::Event& EventSplice::at(std::size_t k) {
  const std::uint32_t i = selected_[k];
  for (; next_ < i; ++next_) out_.push_back(batch_.events[next_]);
  next_ = i + 1;
  return batch_.events[i];
}

core::Event& EventSplice::add(const core::Event& from) {
  made_.push_back(static_cast<std::uint32_t>(out_.size()));
  return out_.emplace_back(from);
}

void EventSplice::finish() {
  for (; next_ < batch_.events.size(); ++next_) out_.push_back(batch_.events[next_]);
  batch_.events.swap(out_);
  selected_.swap(made_);
  out_.clear();
}

void DeliveryReport::set(std::size_t i, Outcome o, std::string_view reason) {
  outcomes_[i] = o;
  if (o != Outcome::kDelivered) reasons_.emplace_back(i, std::string(reason));
}

std::string_view DeliveryReport::reason(std::size_t i) const {
  for (auto it = reasons_.rbegin(); it != reasons_.rend(); ++it) {
    if (it->first == i) return it->second;
  }
  return {};
}

std::size_t DeliveryReport::count(Outcome o) const {
  std::size_t n = 0;
  for (Outcome x : outcomes_) n += x == o;
  return n;
}

}  // namespace bifrost::pipeline
