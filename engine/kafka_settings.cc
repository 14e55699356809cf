#include "engine/kafka_settings.h"

namespace rms {

Status ApplyKafkaSettings(rd_kafka_conf_t* conf,
                          const std::vector<std::pair<std::string, std::string>>& settings) {
    char err[512];
    for (const auto& [key, value] : settings) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return Status::Error("invalid_config", "kafka setting " + key + ": " + err);
        }
    }
    return Status::Ok();
}

}  // namespace rms
