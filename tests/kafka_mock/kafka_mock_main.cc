// rms_kafka_mock: librdkafka's mock Kafka cluster in a process of its own, so that several rmsd
// processes can share it in the tests (issue #9). It creates the cluster and the topic, prints
//   kafka-mock bootstrap=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
// on stdout, and serves until its standard input closes or it gets SIGTERM.
//
//   rms_kafka_mock --brokers 3 --topic events --partitions 6
//
// The mock is librdkafka's, not Kafka: it keeps everything in memory, has no real replication
// (acks=all is acknowledged by the leader alone), no log retention or compaction, and its group
// coordinator implements the classic JoinGroup/SyncGroup protocol with a session timeout, not
// every corner of the real broker's. Its listeners are on 127.0.0.1 only.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) {
    g_stop = 1;
}

}  // namespace

int main(int argc, char** argv) {
    int brokers = 3;
    int partitions = 6;
    std::string topic = "events";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--brokers") {
            brokers = std::atoi(argv[i + 1]);
        } else if (flag == "--partitions") {
            partitions = std::atoi(argv[i + 1]);
        } else if (flag == "--topic") {
            topic = argv[i + 1];
        } else {
            std::fprintf(stderr, "rms_kafka_mock: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only hosts the cluster: its own "no bootstrap.servers" notice is noise.
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == nullptr) {
        std::fprintf(stderr, "rms_kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (cluster == nullptr) {
        std::fprintf(stderr, "rms_kafka_mock: cannot create the mock cluster\n");
        return 1;
    }
    int replicas = brokers < 3 ? brokers : 3;
    rd_kafka_resp_err_t made =
        rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, replicas);
    if (made != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "rms_kafka_mock: topic %s: %s\n", topic.c_str(),
                     rd_kafka_err2str(made));
        return 1;
    }
    std::signal(SIGTERM, OnSignal);
    std::signal(SIGINT, OnSignal);
    std::printf("kafka-mock bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    std::fflush(stdout);

    // Serve until stdin closes (the test that started us is gone) or a signal comes.
    while (!g_stop) {
        pollfd in{STDIN_FILENO, POLLIN, 0};
        int ready = poll(&in, 1, 200);
        if (ready > 0) {
            char buf[256];
            if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0) {
                break;
            }
        }
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 0;
}
