// `esimguard bench` output: the table on stdout, --json, and the --plot SVG
// (throughput and latency per second of the run, two panels sharing the
// time axis, with ticks, units and a legend).

#include "bench.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace esimguard::app::bench {

namespace {

using json = nlohmann::json;

struct latency_summary {
    std::size_t count = 0;
    double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
};

latency_summary summarize(const std::vector<recorder::sample>& samples) {
    std::vector<std::uint32_t> v;
    v.reserve(samples.size());
    for (const auto& s : samples) {
        v.push_back(s.latency_us);
    }
    latency_summary out;
    out.count = v.size();
    out.p50_ms = percentile(v, 50) / 1000.0;
    out.p95_ms = percentile(v, 95) / 1000.0;
    out.p99_ms = percentile(v, 99) / 1000.0;
    out.max_ms = v.empty() ? 0 : v.back() / 1000.0;
    return out;
}

json to_json(const latency_summary& s, std::size_t errors) {
    return json{{"count", s.count},   {"errors", errors},   {"p50_ms", s.p50_ms},
                {"p95_ms", s.p95_ms}, {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}};
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc | std::ios::binary);
    out << text;
    out.close();
    if (!out) {
        fmt::print(stderr, "esimguard bench: cannot write {}\n", path);
        return false;
    }
    return true;
}

// A round step (1, 2 or 5 × 10^k) giving about `ticks` intervals up to `max`.
double nice_step(double max, int ticks) {
    if (max <= 0) {
        return 1;
    }
    const double raw = max / ticks;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (raw <= m * mag) {
            return m * mag;
        }
    }
    return 10 * mag;
}

std::string tick_label(double v) {
    return v == std::floor(v) ? fmt::format("{:.0f}", v) : fmt::format("{:g}", v);
}

struct series {
    std::string name;
    std::string color;
    std::vector<double> values; ///< one per second
};

// One panel: y axis with grid and labels, the shared x axis (seconds), lines.
void panel(std::string& svg, double x0, double y0, double w, double h, const std::string& title,
           const std::string& unit, const std::vector<series>& lines, std::size_t seconds) {
    double ymax = 0;
    for (const auto& s : lines) {
        for (double v : s.values) {
            ymax = std::max(ymax, v);
        }
    }
    const double ystep = nice_step(ymax, 5);
    const double ytop = std::max(ystep, std::ceil(ymax / ystep) * ystep);
    const double xspan = static_cast<double>(std::max<std::size_t>(seconds, 1));
    auto px = [&](double t) { return x0 + t / xspan * w; };
    auto py = [&](double v) { return y0 + h - v / ytop * h; };

    svg += fmt::format(R"(<text x="{}" y="{}" font-size="15" font-weight="bold">{}</text>)"
                       "\n",
                       x0, y0 - 10, title);
    for (double v = 0; v <= ytop + ystep / 2; v += ystep) {
        svg +=
            fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#ddd"/>)"
                        "\n",
                        x0, py(v), x0 + w, py(v));
        svg +=
            fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" text-anchor="end">{}</text>)"
                        "\n",
                        x0 - 6, py(v) + 4, tick_label(v));
    }
    const double xstep = nice_step(xspan, 10);
    for (double t = 0; t <= xspan + xstep / 2; t += xstep) {
        svg +=
            fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#333"/>)"
                        "\n",
                        px(t), y0 + h, px(t), y0 + h + 4);
        svg += fmt::format(
            R"(<text x="{:.1f}" y="{:.1f}" font-size="11" text-anchor="middle">{}</text>)"
            "\n",
            px(t), y0 + h + 17, tick_label(t));
    }
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>)"
                       "\n",
                       x0, y0, w, h);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="middle" )"
                       R"svg(transform="rotate(-90 {:.1f} {:.1f})">{}</text>)svg"
                       "\n",
                       x0 - 45, y0 + h / 2, x0 - 45, y0 + h / 2, unit);
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="12" text-anchor="middle">)"
                       R"(time since start (s)</text>)"
                       "\n",
                       x0 + w / 2, y0 + h + 34);
    double lx = x0 + 10;
    for (const auto& s : lines) {
        std::string points;
        for (std::size_t i = 0; i < s.values.size(); ++i) {
            // Each value covers second i..i+1; drawn at its middle.
            points +=
                fmt::format("{:.1f},{:.1f} ", px(static_cast<double>(i) + 0.5), py(s.values[i]));
        }
        svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>)"
                           "\n",
                           points, s.color);
        svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="14" height="4" fill="{}"/>)"
                           R"(<text x="{:.1f}" y="{:.1f}" font-size="11">{}</text>)"
                           "\n",
                           lx, y0 + 10, s.color, lx + 18, y0 + 15, s.name);
        lx += 30 + 6.5 * static_cast<double>(s.name.size());
    }
}

} // namespace

std::string render_plot(const recorder::snapshot& s, double wall_s) {
    const auto seconds = static_cast<std::size_t>(std::max(1.0, std::ceil(wall_s)));
    std::vector<std::vector<std::uint32_t>> dl(seconds), gbpp(seconds);
    for (const auto& x : s.downloads) {
        dl[std::min<std::size_t>(x.end_ms / 1000, seconds - 1)].push_back(x.latency_us);
    }
    for (const auto& x : s.calls[static_cast<std::size_t>(es9p_fn::get_bound_profile_package)]) {
        gbpp[std::min<std::size_t>(x.end_ms / 1000, seconds - 1)].push_back(x.latency_us);
    }
    series rate{"complete downloads per second", "#1f77b4", {}};
    series p50{"download p50", "#2ca02c", {}};
    series p99{"download p99", "#d62728", {}};
    series g99{"getBoundProfilePackage p99", "#9467bd", {}};
    for (std::size_t i = 0; i < seconds; ++i) {
        // The last second may be partial: scale it to a rate.
        const double span = std::min(1.0, wall_s - static_cast<double>(i));
        rate.values.push_back(static_cast<double>(dl[i].size()) / std::max(span, 0.001));
        p50.values.push_back(percentile(dl[i], 50) / 1000.0);
        p99.values.push_back(percentile(dl[i], 99) / 1000.0);
        g99.values.push_back(percentile(gbpp[i], 99) / 1000.0);
    }
    std::string svg;
    svg += R"(<?xml version="1.0" encoding="UTF-8"?>)"
           "\n"
           R"(<svg xmlns="http://www.w3.org/2000/svg" width="960" height="640" )"
           R"(viewBox="0 0 960 640" font-family="sans-serif">)"
           "\n"
           R"(<rect width="960" height="640" fill="white"/>)"
           "\n";
    svg += fmt::format(R"(<text x="480" y="26" font-size="17" text-anchor="middle">)"
                       R"(esimguard bench: {} complete downloads in {:.1f} s</text>)"
                       "\n",
                       s.downloads.size(), wall_s);
    panel(svg, 90, 70, 830, 210, "Throughput", "downloads / s", {rate}, seconds);
    panel(svg, 90, 370, 830, 210, "Latency (per second of the run)", "milliseconds",
          {p50, p99, g99}, seconds);
    svg += "</svg>\n";
    return svg;
}

bool report(const bench_args& a, const environment& env, const run_result& r,
            const std::optional<crypto_floor>& floor) {
    const auto& d = r.data;
    const std::size_t done = d.downloads.size();
    std::size_t errors = 0;
    for (const auto& [k, n] : d.errors) {
        errors += n;
    }
    const double rate = r.wall_s > 0 ? static_cast<double>(done) / r.wall_s : 0;
    std::optional<double> cpu_us;
    if (r.server_cpu_s && done + d.cancelled > 0) {
        cpu_us = *r.server_cpu_s * 1e6 / static_cast<double>(done + d.cancelled);
    }
    std::optional<double> ratio;
    if (cpu_us && floor && floor->total_us > 0) {
        ratio = *cpu_us / floor->total_us;
    }

    fmt::print("esimguard bench: {} devices (nice {}), {} eUICCs, {} node(s), {} prefilled orders, "
               "package {} bytes\n",
               env.devices, a.device_nice, env.cards.size(), env.nodes.size(), a.prefill,
               env.package_bytes);
    fmt::print("  complete downloads   {} in {:.2f} s = {:.1f} /s", done, r.wall_s, rate);
    fmt::print("  (cancelled on purpose {}, failed {})\n", d.cancelled, errors);
    fmt::print("\n  {:<24} {:>8} {:>7} {:>9} {:>9} {:>9}\n", "latency (ms)", "calls", "errors",
               "p50", "p95", "p99");
    json lat = json::object();
    for (std::size_t i = 0; i < es9p_fn_count; ++i) {
        const auto s = summarize(d.calls[i]);
        const std::string name(to_string(static_cast<es9p_fn>(i)));
        lat[name] = to_json(s, d.call_errors[i]);
        fmt::print("  {:<24} {:>8} {:>7} {:>9.2f} {:>9.2f} {:>9.2f}\n", name, s.count,
                   d.call_errors[i], s.p50_ms, s.p95_ms, s.p99_ms);
    }
    const auto whole = summarize(d.downloads);
    lat["download"] = to_json(whole, errors);
    fmt::print("  {:<24} {:>8} {:>7} {:>9.2f} {:>9.2f} {:>9.2f}\n", "whole download", whole.count,
               errors, whole.p50_ms, whole.p95_ms, whole.p99_ms);
    if (!d.errors.empty()) {
        fmt::print("\n  errors by code\n");
        for (const auto& [k, n] : d.errors) {
            fmt::print("    {:<20} {}\n", k, n);
        }
    }
    fmt::print("\n");
    if (cpu_us) {
        fmt::print("  server CPU per download   {:9.0f} us ({:.2f} s of CPU over the run)\n",
                   *cpu_us, *r.server_cpu_s);
    } else {
        fmt::print(
            "  server CPU per download   unknown (no server process to read; --server-pid)\n");
    }
    const double devices_us = done + d.cancelled > 0
                                  ? r.devices_cpu_s * 1e6 / static_cast<double>(done + d.cancelled)
                                  : 0;
    fmt::print("  devices' CPU per download {:9.0f} us (this process: eUICCs, LPAs, TLS clients)\n",
               devices_us);
    if (floor) {
        fmt::print("  crypto floor per download {:9.0f} us (sign {:.0f}, verify {:.0f}, keygen "
                   "{:.0f}, ECDH+KDF {:.0f}, BSP {:.0f}; {} iterations)\n",
                   floor->total_us, floor->sign_us, floor->verify_us, floor->keygen_us,
                   floor->ecdh_us, floor->bsp_us, floor->iterations);
    }
    if (ratio) {
        fmt::print("  server CPU / crypto floor {:9.2f}\n", *ratio);
    }
    if (r.server_rss_before_kib && r.server_rss_after_kib) {
        fmt::print("  server RSS                {} KiB before, {} KiB after\n",
                   *r.server_rss_before_kib, *r.server_rss_after_kib);
    }

    bool ok = true;
    if (!a.json_file.empty()) {
        json j;
        j["concurrency"] = env.devices;
        j["device_nice"] = a.device_nice;
        j["euiccs"] = env.cards.size();
        j["nodes"] = env.nodes;
        j["prefilled_orders"] = a.prefill;
        j["package_bytes"] = env.package_bytes;
        j["wall_s"] = r.wall_s;
        j["downloads"] = done;
        j["cancelled"] = d.cancelled;
        j["errors_total"] = errors;
        j["downloads_per_s"] = rate;
        j["latency_ms"] = lat;
        json by_code = json::object();
        for (const auto& [k, n] : d.errors) {
            by_code[k] = n;
        }
        j["errors"] = by_code;
        j["server_cpu_us_per_download"] = cpu_us ? json(*cpu_us) : json(nullptr);
        j["server_cpu_s"] = r.server_cpu_s ? json(*r.server_cpu_s) : json(nullptr);
        j["devices_cpu_us_per_download"] = devices_us;
        if (floor) {
            j["crypto_floor_us_per_download"] = floor->total_us;
            j["crypto_floor_breakdown_us"] = {
                {"sign", floor->sign_us},     {"verify", floor->verify_us},
                {"keygen", floor->keygen_us}, {"ecdh_kdf", floor->ecdh_us},
                {"bsp", floor->bsp_us},       {"iterations", floor->iterations}};
        } else {
            j["crypto_floor_us_per_download"] = nullptr;
        }
        j["server_cpu_to_crypto_floor_ratio"] = ratio ? json(*ratio) : json(nullptr);
        j["server_rss_kib_before"] =
            r.server_rss_before_kib ? json(*r.server_rss_before_kib) : json(nullptr);
        j["server_rss_kib_after"] =
            r.server_rss_after_kib ? json(*r.server_rss_after_kib) : json(nullptr);
        ok &= write_file(a.json_file, j.dump(2) + "\n");
    }
    if (!a.plot_file.empty()) {
        ok &= write_file(a.plot_file, render_plot(d, r.wall_s));
    }
    return ok;
}

bool report_sessions(const bench_args& a, const sessions_result& r) {
    const double n = static_cast<double>(std::max<std::size_t>(r.opened, 1));
    const double rss_per = static_cast<double>(r.rss_after_kib - r.rss_before_kib) * 1024.0 / n;
    const double db_per =
        (static_cast<double>(r.db_bytes_after) - static_cast<double>(r.db_bytes_before)) / n;
    fmt::print("esimguard bench --sessions: {} RSP sessions opened ({} failed) in {:.1f} s = "
               "{:.0f} /s\n",
               r.opened, r.failed, r.wall_s, r.wall_s > 0 ? n / r.wall_s : 0.0);
    fmt::print("  server RSS      {} KiB -> {} KiB: {:.0f} bytes per pending session\n",
               r.rss_before_kib, r.rss_after_kib, rss_per);
    fmt::print("  database files  {} -> {} bytes: {:.0f} bytes per pending session\n",
               r.db_bytes_before, r.db_bytes_after, db_per);
    if (a.json_file.empty()) {
        return true;
    }
    json j{{"sessions_opened", r.opened},
           {"sessions_failed", r.failed},
           {"wall_s", r.wall_s},
           {"server_rss_kib_before", r.rss_before_kib},
           {"server_rss_kib_after", r.rss_after_kib},
           {"server_rss_bytes_per_session", rss_per},
           {"database_bytes_before", r.db_bytes_before},
           {"database_bytes_after", r.db_bytes_after},
           {"database_bytes_per_session", db_per}};
    return write_file(a.json_file, j.dump(2) + "\n");
}

} // namespace esimguard::app::bench
