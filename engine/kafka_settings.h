// librdkafka configuration shared by the consumer and the gateway's producer.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace rms {

// Sets each (key, value) on `conf`. On the first one librdkafka refuses, destroys `conf` and
// returns invalid_config naming the key and librdkafka's reason.
Status ApplyKafkaSettings(rd_kafka_conf_t* conf,
                          const std::vector<std::pair<std::string, std::string>>& settings);

}  // namespace rms
