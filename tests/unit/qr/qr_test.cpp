#include "esimguard/qr/qr.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace esimguard;

namespace {

// Reads a QR image back with zbarimg (zbar-tools), the way a phone camera
// would, so the test checks the picture and not our own idea of it.
std::string decode_with_zbar(const std::filesystem::path& png) {
    std::string cmd = "zbarimg --quiet --raw '" + png.string() + "' 2>/dev/null";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    std::array<char, 512> buf{};
    while (fgets(buf.data(), buf.size(), p) != nullptr) {
        out += buf.data();
    }
    pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    return out;
}

std::filesystem::path temp_png(const char* name) {
    auto dir =
        std::filesystem::temp_directory_path() / ("esimguard-qr-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir / name;
}

} // namespace

TEST(qr, when_an_activation_code_is_rendered_then_a_reader_decodes_the_same_text) {
    const std::string code = "LPA:1$smdp.example.com:8443$MATCH-1234-abcd$1.3.6.1.4.1.31746$1";
    auto path = temp_png("ac.png");
    ASSERT_TRUE(qr::write_png(code, path).has_value());
    EXPECT_EQ(decode_with_zbar(path), code);
    std::filesystem::remove(path);
}

TEST(qr, when_rendered_then_output_is_a_png_of_the_expected_size) {
    qr::png_options opt{.module_pixels = 3, .quiet_zone = 4};
    auto png = qr::render_png("LPA:1$a$b", opt);
    ASSERT_TRUE(png.has_value());
    ASSERT_GT(png->size(), 24u);
    const std::array<std::uint8_t, 8> signature{0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    EXPECT_TRUE(std::equal(signature.begin(), signature.end(), png->begin()));
    // IHDR width at bytes 16..19: a version-1 code is 21 modules + 2*4 quiet.
    const std::uint32_t width = std::uint32_t((*png)[16]) << 24 | std::uint32_t((*png)[17]) << 16 |
                                std::uint32_t((*png)[18]) << 8 | (*png)[19];
    EXPECT_EQ(width, (21u + 8u) * 3u);
}

TEST(qr, when_text_is_empty_or_options_out_of_range_then_rendering_refuses) {
    EXPECT_FALSE(qr::render_png("").has_value());
    EXPECT_FALSE(qr::render_png("x", {.module_pixels = 0}).has_value());
    EXPECT_FALSE(qr::render_png("x", {.module_pixels = 8, .quiet_zone = 17}).has_value());
}

TEST(qr, when_text_exceeds_qr_capacity_then_rendering_refuses) {
    // Version 40-M holds 2331 bytes in 8-bit mode.
    EXPECT_FALSE(qr::render_png(std::string(3000, 'a')).has_value());
}
