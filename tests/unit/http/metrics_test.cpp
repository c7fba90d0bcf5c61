// The Prometheus text format of the metrics registry.

#include "esimguard/http/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace esimguard::http {
namespace {

TEST(metrics_registry, counter_renders_help_type_and_one_line_per_label_set) {
    metrics_registry m;
    m.counter("esimguard_test_total", "Things counted", {{"status", "200"}, {"route", "/a"}})
        .inc(3);
    m.counter("esimguard_test_total", "ignored", {{"route", "/a"}, {"status", "500"}}).inc();

    EXPECT_EQ(m.render(), "# HELP esimguard_test_total Things counted\n"
                          "# TYPE esimguard_test_total counter\n"
                          "esimguard_test_total{route=\"/a\",status=\"200\"} 3\n"
                          "esimguard_test_total{route=\"/a\",status=\"500\"} 1\n");
}

TEST(metrics_registry, histogram_renders_cumulative_buckets_sum_and_count) {
    metrics_registry m;
    auto& h = m.histogram("esimguard_latency_seconds", "Latency", {0.1, 1}, {{"route", "/x"}});
    h.observe(0.05);
    h.observe(0.1); // on a bound: counts in that bucket (le is inclusive)
    h.observe(0.5);
    h.observe(7);

    EXPECT_EQ(m.render(), "# HELP esimguard_latency_seconds Latency\n"
                          "# TYPE esimguard_latency_seconds histogram\n"
                          "esimguard_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
                          "esimguard_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
                          "esimguard_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                          "esimguard_latency_seconds_sum{route=\"/x\"} 7.65\n"
                          "esimguard_latency_seconds_count{route=\"/x\"} 4\n");
}

TEST(metrics_registry, label_values_are_escaped) {
    metrics_registry m;
    m.counter("esimguard_escape_total", "h", {{"v", "a\"b\\c\nd"}}).inc();
    EXPECT_NE(m.render().find("esimguard_escape_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"),
              std::string::npos)
        << m.render();
}

TEST(metrics_registry, counter_without_labels_has_no_braces) {
    metrics_registry m;
    m.counter("esimguard_plain_total", "h").inc(2);
    EXPECT_NE(m.render().find("\nesimguard_plain_total 2\n"), std::string::npos) << m.render();
}

TEST(metrics_registry, concurrent_increments_are_all_counted) {
    metrics_registry m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&m] {
            for (int i = 0; i < 10000; ++i) {
                m.counter("esimguard_race_total", "h", {{"k", "v"}}).inc();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(m.counter("esimguard_race_total", "h", {{"k", "v"}}).value(), 40000U);
}

TEST(metrics_registry_death, one_name_with_two_types_aborts) {
    metrics_registry m;
    m.counter("esimguard_dup", "h");
    EXPECT_DEATH(m.histogram("esimguard_dup", "h", {1.0}), "two types");
}

} // namespace
} // namespace esimguard::http
