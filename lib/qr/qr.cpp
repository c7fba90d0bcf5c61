#include "esimguard/qr/qr.hpp"

#include <png.h>
#include <qrencode.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace esimguard::qr {

namespace {

struct qrcode_deleter {
    void operator()(QRcode* q) const { QRcode_free(q); }
};

void append_to_buffer(png_structp png, png_bytep data, png_size_t len) {
    auto* out = static_cast<bytes*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + len);
}

void flush_nothing(png_structp) {}

} // namespace

std::expected<bytes, std::string> render_png(std::string_view text, const png_options& options) {
    if (options.module_pixels < 1 || options.module_pixels > 64) {
        return std::unexpected("module size must be 1 to 64 pixels");
    }
    if (options.quiet_zone < 0 || options.quiet_zone > 16) {
        return std::unexpected("quiet zone must be 0 to 16 modules");
    }
    if (text.empty()) {
        return std::unexpected("nothing to encode");
    }
    // 8-bit mode keeps '$' and lower case intact (alphanumeric mode has no
    // lower case); activation codes are short, so size is no concern.
    std::unique_ptr<QRcode, qrcode_deleter> code(
        QRcode_encodeData(static_cast<int>(text.size()),
                          reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
    if (!code) {
        return std::unexpected("text too long for a QR code");
    }

    const int modules = code->width + 2 * options.quiet_zone;
    const int side = modules * options.module_pixels;

    bytes out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    if (png == nullptr) {
        return std::unexpected("libpng: cannot create writer");
    }
    png_infop info = png_create_info_struct(png);
    if (info == nullptr) {
        png_destroy_write_struct(&png, nullptr);
        return std::unexpected("libpng: cannot create info");
    }
    // libpng reports errors by longjmp; nothing with a destructor may be
    // created between here and the end of the writing below.
    std::vector<png_byte> row(static_cast<std::size_t>(side));
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return std::unexpected("libpng: write failed");
    }
    png_set_write_fn(png, &out, append_to_buffer, flush_nothing);
    png_set_IHDR(png, info, static_cast<png_uint_32>(side), static_cast<png_uint_32>(side), 8,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < side; ++y) {
        const int my = y / options.module_pixels - options.quiet_zone;
        for (int x = 0; x < side; ++x) {
            const int mx = x / options.module_pixels - options.quiet_zone;
            bool dark = false;
            if (mx >= 0 && my >= 0 && mx < code->width && my < code->width) {
                // libqrencode: bit 0 of each byte is the module's colour.
                dark = (code->data[my * code->width + mx] & 1) != 0;
            }
            row[static_cast<std::size_t>(x)] = dark ? 0 : 255;
        }
        png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return out;
}

std::expected<void, std::string> write_png(std::string_view text, const std::filesystem::path& path,
                                           const png_options& options) {
    auto png = render_png(text, options);
    if (!png) {
        return std::unexpected(png.error());
    }
    auto tmp = path;
    tmp += ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) {
            return std::unexpected("cannot write " + tmp.string());
        }
        f.write(reinterpret_cast<const char*>(png->data()),
                static_cast<std::streamsize>(png->size()));
        if (!f) {
            return std::unexpected("cannot write " + tmp.string());
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        return std::unexpected("cannot rename to " + path.string() + ": " + ec.message());
    }
    return {};
}

} // namespace esimguard::qr
