#pragma once
/// QR images of activation codes (SGP.22 §4.1: the code is shown to the user
/// as a QR code that the device's camera reads).

#include "esimguard/core/bytes.hpp"

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace esimguard::qr {

/// How the image is drawn.
struct png_options {
    int module_pixels = 8; ///< side of one QR module in pixels
    int quiet_zone = 4;    ///< border in modules (the QR spec asks for 4)
};

/// A PNG (8-bit greyscale) of `text` as a QR code, error correction level M.
/// Fails with a sentence when the text is too long for a QR code or the
/// options are out of range (1..64 pixels, 0..16 modules).
[[nodiscard]] std::expected<bytes, std::string> render_png(std::string_view text,
                                                           const png_options& options = {});

/// render_png written to `path` (replaced atomically: temp file + rename).
[[nodiscard]] std::expected<void, std::string> write_png(std::string_view text,
                                                         const std::filesystem::path& path,
                                                         const png_options& options = {});

} // namespace esimguard::qr
