// The delivery keys every output has (DESIGN.md, "Delivery"): retry,
// failed_queue, buffer; read by the loader, listed by describe and schema.
#pragma once

#include "config/reader.h"
#include "delivery/options.h"

namespace bifrost::config {

delivery::DeliveryOptions read_delivery(MapReader& r);

}  // namespace bifrost::config
