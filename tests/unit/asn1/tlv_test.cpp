// Unit tests of the DER TLV layer: known encodings written by hand from
// X.690, one test per DER rule the reader enforces, and writer round trips.

#include "esimguard/asn1/tlv.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <random>
#include <string>

namespace esimguard::asn1 {
namespace {

// Hex with optional spaces, for encodings copied from the spec by hand.
bytes hx(std::string_view text) {
    std::string compact;
    for (char c : text) {
        if (c != ' ') {
            compact.push_back(c);
        }
    }
    auto b = from_hex(compact);
    if (!b) {
        ADD_FAILURE() << "bad hex in test: " << text;
        return {};
    }
    return *b;
}

bytes filled(std::size_t n, std::uint8_t v = 0xa5) {
    return bytes(n, v);
}

bytes join(const bytes& a, const bytes& b) {
    bytes out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

// `levels` constructed SEQUENCEs, one inside the other, around `leaf`.
bytes nested(int levels, const bytes& leaf = {}) {
    writer w;
    for (int i = 0; i < levels; ++i) {
        w.begin(0x30);
    }
    w.add_raw(leaf);
    for (int i = 0; i < levels; ++i) {
        w.end();
    }
    return std::move(w).finish();
}

void expect_refused(const bytes& input, errc code, std::size_t offset) {
    auto r = decode_single(input);
    ASSERT_FALSE(r.has_value()) << "accepted " << to_hex(input);
    EXPECT_EQ(to_string(r.error().code), to_string(code));
    EXPECT_EQ(r.error().offset, offset);
}

// Re-encodes a validated TLV tree through the writer, child by child.
void reencode(writer& w, const tlv& t, const reader& parent) {
    if (!t.constructed()) {
        w.add(t.tag, t.value);
        return;
    }
    auto inner = parent.enter(t);
    ASSERT_TRUE(inner.has_value());
    w.begin(t.tag);
    while (!inner->at_end()) {
        auto child = inner->next();
        ASSERT_TRUE(child.has_value());
        reencode(w, *child, *inner);
    }
    w.end();
}

// ---- known encodings: writer ----------------------------------------------

TEST(tlv_writer, when_constructed_value_is_empty_then_bf2e_encodes_as_bf2e00) {
    writer w;
    w.begin(0xBF2E).end();
    EXPECT_EQ(to_hex_upper(std::move(w).finish()), "BF2E00");
}

TEST(tlv_writer, when_signature_is_64_bytes_then_5f37_encodes_with_short_length_40) {
    const bytes sig = filled(64, 0x11);
    EXPECT_EQ(encode(0x5F37, sig), join(hx("5F37 40"), sig));
}

TEST(tlv_writer, when_length_is_127_then_it_uses_the_short_form) {
    const bytes v = filled(127);
    EXPECT_EQ(encode(0x04, v), join(hx("04 7F"), v));
}

TEST(tlv_writer, when_length_is_128_then_it_uses_0x81_80) {
    const bytes v = filled(128);
    EXPECT_EQ(encode(0x04, v), join(hx("04 81 80"), v));
}

TEST(tlv_writer, when_length_is_255_then_it_uses_0x81_ff) {
    const bytes v = filled(255);
    EXPECT_EQ(encode(0x04, v), join(hx("04 81 FF"), v));
}

TEST(tlv_writer, when_length_is_256_then_it_uses_0x82_01_00) {
    const bytes v = filled(256);
    EXPECT_EQ(encode(0x04, v), join(hx("04 82 01 00"), v));
}

TEST(tlv_writer, when_length_needs_three_bytes_then_append_length_writes_0x83) {
    bytes out;
    append_length(out, 65535);
    append_length(out, 65536);
    EXPECT_EQ(to_hex_upper(out), "82FFFF83010000");
}

TEST(tlv_writer, when_tags_have_one_to_four_bytes_then_append_tag_writes_them_big_endian) {
    bytes out;
    append_tag(out, 0x30);
    append_tag(out, 0x80);
    append_tag(out, 0x5F49);
    append_tag(out, 0xBF36);
    append_tag(out, 0xBF8100);
    append_tag(out, 0xBF818001);
    EXPECT_EQ(to_hex_upper(out), "30805F49BF36BF8100BF818001");
}

TEST(tlv_writer, when_booleans_are_written_then_true_is_ff_and_false_is_00) {
    writer w;
    w.add_bool(0x01, true).add_bool(0x81, false);
    EXPECT_EQ(to_hex_upper(std::move(w).finish()), "0101FF810100");
}

TEST(tlv_writer, when_unsigned_integers_are_written_then_they_are_minimal_twos_complement) {
    const std::pair<std::uint64_t, std::string_view> cases[] = {
        {0, "020100"},
        {1, "020101"},
        {127, "02017F"},
        {128, "02020080"},
        {255, "020200FF"},
        {256, "02020100"},
        {0x7FFFFFFFFFFFFFFFull, "02087FFFFFFFFFFFFFFF"},
        {std::numeric_limits<std::uint64_t>::max(), "020900FFFFFFFFFFFFFFFF"},
    };
    for (const auto& [v, expected] : cases) {
        writer w;
        w.add_uint(0x02, v);
        EXPECT_EQ(to_hex_upper(std::move(w).finish()), expected) << v;
    }
}

TEST(tlv_writer, when_values_are_nested_then_each_length_covers_its_content) {
    writer w;
    w.begin(0xBF20).begin(0xA0).add(0x80, hx("0102")).end().add(0x81, hx("03")).end();
    EXPECT_EQ(to_hex_upper(std::move(w).finish()), "BF2009A00480020102810103");
}

TEST(tlv_writer, when_nested_content_exceeds_127_bytes_then_outer_lengths_use_long_form) {
    const bytes v = filled(200);
    writer w;
    w.begin(0x30).begin(0xA1).add(0x04, v).end().end();
    // 04 81 C8 + 200 = 203; A1 81 CB + 203 = 206 = 0xCE
    EXPECT_EQ(std::move(w).finish(), join(hx("30 81 CE A1 81 CB 04 81 C8"), v));
}

TEST(tlv_writer, when_raw_tlv_is_added_then_it_is_copied_unchanged) {
    writer w;
    w.begin(0x30).add_raw(hx("5F370100")).end();
    EXPECT_EQ(to_hex_upper(std::move(w).finish()), "30045F370100");
}

TEST(tlv_writer_death_test, when_end_has_no_matching_begin_then_process_stops) {
    EXPECT_DEATH(
        {
            writer w;
            w.end();
        },
        "without a matching begin");
}

TEST(tlv_writer_death_test, when_finish_leaves_a_value_open_then_process_stops) {
    EXPECT_DEATH(
        {
            writer w;
            w.begin(0x30);
            auto out = std::move(w).finish();
            (void)out;
        },
        "not closed");
}

// ---- known encodings: reader ----------------------------------------------

TEST(tlv_decode, when_input_is_bf2e00_then_it_is_an_empty_constructed_bf2e) {
    const bytes in = hx("BF2E00");
    auto t = decode_single(in);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->tag, 0xBF2Eu);
    EXPECT_TRUE(t->constructed());
    EXPECT_TRUE(t->value.empty());
    EXPECT_EQ(t->raw.size(), 3u);
}

TEST(tlv_decode, when_input_is_5f37_with_64_bytes_then_value_is_the_signature) {
    const bytes sig = filled(64, 0x42);
    const bytes in = join(hx("5F37 40"), sig);
    auto t = decode_single(in);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->tag, 0x5F37u);
    EXPECT_FALSE(t->constructed());
    EXPECT_EQ(to_bytes(t->value), sig);
    EXPECT_EQ(t->raw.size(), 67u);
    EXPECT_EQ(t->raw.data(), in.data());
}

TEST(tlv_decode, when_long_lengths_sit_at_the_boundaries_then_they_decode) {
    const std::pair<std::string_view, std::size_t> cases[] = {
        {"04 7F", 127}, {"04 81 80", 128}, {"04 81 FF", 255}, {"04 82 01 00", 256}};
    for (const auto& [head, n] : cases) {
        const bytes in = join(hx(head), filled(n));
        auto t = decode_single(in);
        ASSERT_TRUE(t.has_value()) << head;
        EXPECT_EQ(t->value.size(), n) << head;
        EXPECT_EQ(t->value.data(), in.data() + (in.size() - n)) << head;
    }
}

TEST(tlv_decode, when_tag_has_four_bytes_then_it_is_packed_into_the_tag) {
    auto t = decode_single(hx("BF 81 80 01 00"));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->tag, 0xBF818001u);
}

TEST(tlv_decode, when_high_tag_number_is_31_then_it_is_accepted) {
    auto t = decode_single(hx("9F 1F 00"));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->tag, 0x9F1Fu);
}

TEST(tlv_decode, when_values_are_nested_then_offsets_are_absolute) {
    const bytes in = hx("30 08 A0 06 5F49 03 010203");
    auto outer = decode_single(in);
    ASSERT_TRUE(outer.has_value());
    reader top(in);
    auto a = top.next();
    ASSERT_TRUE(a.has_value());
    auto r1 = top.enter(*a);
    ASSERT_TRUE(r1.has_value());
    EXPECT_EQ(r1->depth(), 1);
    auto a0 = r1->expect(0xA0);
    ASSERT_TRUE(a0.has_value());
    EXPECT_EQ(a0->offset, 2u);
    auto r2 = r1->enter(*a0);
    ASSERT_TRUE(r2.has_value());
    auto leaf = r2->expect(0x5F49);
    ASSERT_TRUE(leaf.has_value());
    EXPECT_EQ(leaf->offset, 4u);
    EXPECT_EQ(to_hex_upper(leaf->value), "010203");
}

// ---- refusals: one DER rule each ------------------------------------------

TEST(tlv_decode, when_length_is_indefinite_then_decode_refuses_with_indefinite_length) {
    expect_refused(hx("30 80 04 00 00 00"), errc::indefinite_length, 0);
}

TEST(tlv_decode, when_long_length_fits_short_form_then_decode_refuses_with_non_minimal_length) {
    expect_refused(join(hx("04 81 05"), filled(5)), errc::non_minimal_length, 0);
}

TEST(tlv_decode, when_long_length_is_127_then_decode_refuses_with_non_minimal_length) {
    expect_refused(join(hx("04 81 7F"), filled(127)), errc::non_minimal_length, 0);
}

TEST(tlv_decode, when_long_length_has_leading_zero_then_decode_refuses_with_non_minimal_length) {
    expect_refused(join(hx("04 82 00 90"), filled(0x90)), errc::non_minimal_length, 0);
}

TEST(tlv_decode, when_length_of_length_exceeds_four_then_decode_refuses_with_length_too_large) {
    expect_refused(hx("04 85 01 00 00 00 00"), errc::length_too_large, 0);
}

TEST(tlv_decode, when_length_byte_is_ff_then_decode_refuses_with_length_too_large) {
    expect_refused(hx("04 FF 00"), errc::length_too_large, 0);
}

TEST(tlv_decode,
     when_four_byte_length_runs_past_buffer_then_decode_refuses_with_length_past_buffer) {
    // Four length bytes are allowed; the value they announce is not there.
    expect_refused(hx("04 84 FF FF FF FF AA"), errc::length_past_buffer, 0);
}

TEST(tlv_decode, when_length_runs_past_buffer_then_decode_refuses_with_length_past_buffer) {
    expect_refused(hx("04 05 AA BB CC DD"), errc::length_past_buffer, 0);
}

TEST(tlv_decode,
     when_inner_length_runs_past_its_parent_then_decode_refuses_with_length_past_buffer) {
    expect_refused(hx("30 03 04 05 AA"), errc::length_past_buffer, 2);
}

TEST(tlv_reader, when_inner_length_runs_into_bytes_after_its_parent_then_length_past_buffer) {
    // The bytes after the SEQUENCE exist in the buffer, but not in the parent.
    const bytes in = hx("30 03 04 02 AA BB CC");
    reader top(in);
    auto seq = top.next();
    ASSERT_TRUE(seq.has_value());
    auto inner = top.enter(*seq);
    ASSERT_TRUE(inner.has_value());
    auto t = inner->next();
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, errc::length_past_buffer);
    EXPECT_EQ(t.error().offset, 2u);
}

TEST(tlv_decode, when_buffer_is_empty_then_decode_refuses_with_truncated) {
    expect_refused({}, errc::truncated, 0);
}

TEST(tlv_decode, when_buffer_ends_after_first_tag_byte_then_decode_refuses_with_truncated) {
    expect_refused(hx("BF"), errc::truncated, 0);
}

TEST(tlv_decode, when_buffer_ends_inside_multi_byte_tag_then_decode_refuses_with_truncated) {
    expect_refused(hx("BF 81"), errc::truncated, 0);
}

TEST(tlv_decode, when_buffer_ends_before_length_then_decode_refuses_with_truncated) {
    expect_refused(hx("5F37"), errc::truncated, 0);
}

TEST(tlv_decode, when_buffer_ends_inside_long_length_then_decode_refuses_with_truncated) {
    expect_refused(hx("04 82 01"), errc::truncated, 0);
}

TEST(tlv_decode, when_nested_value_is_truncated_then_offset_points_at_it) {
    expect_refused(hx("30 03 04 00 BF"), errc::truncated, 4);
}

TEST(tlv_decode, when_tag_has_five_bytes_then_decode_refuses_with_tag_too_long) {
    expect_refused(hx("BF 81 82 83 04 00"), errc::tag_too_long, 0);
}

TEST(tlv_decode, when_high_tag_number_starts_with_0x80_then_decode_refuses_with_non_minimal_tag) {
    expect_refused(hx("BF 80 2E 00"), errc::non_minimal_tag, 0);
}

TEST(tlv_decode, when_high_tag_number_is_below_31_then_decode_refuses_with_non_minimal_tag) {
    expect_refused(hx("9F 1E 00"), errc::non_minimal_tag, 0);
}

TEST(tlv_decode, when_bytes_follow_the_value_then_decode_refuses_with_trailing_bytes) {
    expect_refused(hx("04 01 AA 00"), errc::trailing_bytes, 3);
}

TEST(tlv_decode, when_two_values_are_given_then_decode_refuses_with_trailing_bytes) {
    expect_refused(hx("04 00 04 00"), errc::trailing_bytes, 2);
}

TEST(tlv_decode, when_error_is_deep_inside_then_offset_is_absolute) {
    // 24 80 sits at offset 5: inside 30 at 0, after 04 01 AA.
    expect_refused(hx("30 05 04 01 AA 24 80"), errc::indefinite_length, 5);
}

// ---- nesting depth --------------------------------------------------------

TEST(tlv_decode, when_nesting_is_max_depth_then_decode_accepts) {
    const bytes in = nested(max_depth, hx("04 01 AA"));
    EXPECT_TRUE(decode_single(in).has_value());
    EXPECT_TRUE(validate(in).has_value());
}

TEST(tlv_decode, when_nesting_exceeds_max_depth_then_decode_refuses_with_nesting_too_deep) {
    const bytes in = nested(max_depth + 1);
    auto r = decode_single(in);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::nesting_too_deep);
    // The 33rd SEQUENCE starts after 32 two-byte headers.
    EXPECT_EQ(r.error().offset, 2u * max_depth);
}

TEST(tlv_validate, when_nesting_exceeds_max_depth_then_validate_refuses_with_nesting_too_deep) {
    auto r = validate(nested(max_depth + 1));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::nesting_too_deep);
}

TEST(tlv_validate, when_starting_depth_is_given_then_it_counts_towards_the_limit) {
    const bytes in = nested(2);
    EXPECT_TRUE(validate(in, max_depth - 2).has_value());
    auto r = validate(in, max_depth - 1);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::nesting_too_deep);
}

TEST(tlv_validate, when_buffer_holds_several_values_then_validate_checks_each) {
    EXPECT_TRUE(validate(hx("04 00 30 02 05 00")).has_value());
    auto r = validate(hx("04 00 30 02 05 80"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, errc::indefinite_length);
    EXPECT_EQ(r.error().offset, 4u);
}

TEST(tlv_validate, when_base_is_given_then_offsets_are_shifted_by_it) {
    auto r = validate(hx("04 05"), 0, 100);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().offset, 100u);
}

TEST(tlv_reader, when_entering_max_depth_levels_then_enter_succeeds_and_one_more_is_refused) {
    const bytes in = nested(max_depth + 1);
    reader r(in);
    for (int level = 0; level < max_depth; ++level) {
        auto t = r.next();
        ASSERT_TRUE(t.has_value()) << level;
        auto inner = r.enter(*t);
        ASSERT_TRUE(inner.has_value()) << level;
        r = *inner;
    }
    EXPECT_EQ(r.depth(), max_depth);
    auto last = r.next();
    ASSERT_TRUE(last.has_value());
    auto refused = r.enter(*last);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, errc::nesting_too_deep);
    EXPECT_EQ(refused.error().offset, 2u * max_depth);
}

// ---- reader navigation ----------------------------------------------------

TEST(tlv_reader, when_peeking_then_the_position_does_not_move) {
    const bytes in = hx("80 01 01 81 01 02");
    reader r(in);
    auto p = r.peek();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->tag, 0x80u);
    auto n = r.next();
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->tag, 0x80u);
    auto second = r.next();
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->tag, 0x81u);
    EXPECT_TRUE(r.at_end());
    EXPECT_TRUE(r.finish().has_value());
}

TEST(tlv_reader, when_next_if_sees_another_tag_then_it_returns_empty_and_stays) {
    const bytes in = hx("81 01 02");
    reader r(in);
    auto skipped = r.next_if(0x80);
    ASSERT_TRUE(skipped.has_value());
    EXPECT_EQ(skipped->tag, 0u);
    EXPECT_EQ(r.remaining(), 3u);
    auto taken = r.next_if(0x81);
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(taken->tag, 0x81u);
    EXPECT_TRUE(r.at_end());
}

TEST(tlv_reader, when_next_if_is_at_the_end_then_it_returns_empty) {
    reader r(byte_view{});
    auto t = r.next_if(0x80);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->tag, 0u);
}

TEST(tlv_reader, when_next_if_meets_malformed_bytes_then_it_reports_the_error) {
    const bytes in = hx("80 80");
    reader r(in);
    auto t = r.next_if(0x81);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, errc::indefinite_length);
}

TEST(tlv_reader, when_expected_field_is_absent_then_expect_reports_missing_field_with_name) {
    const bytes in = hx("80 00");
    reader r(in, 0, 10);
    ASSERT_TRUE(r.next().has_value());
    auto t = r.expect(0x81, "transactionId");
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, errc::missing_field);
    EXPECT_EQ(t.error().field, "transactionId");
    EXPECT_EQ(t.error().offset, 12u);
}

TEST(tlv_reader, when_expected_field_has_another_tag_then_expect_reports_unexpected_tag) {
    const bytes in = hx("80 00 82 00");
    reader r(in);
    ASSERT_TRUE(r.next().has_value());
    auto t = r.expect(0x81, "serverChallenge");
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, errc::unexpected_tag);
    EXPECT_EQ(t.error().field, "serverChallenge");
    EXPECT_EQ(t.error().offset, 2u);
    EXPECT_EQ(r.remaining(), 2u);
}

TEST(tlv_reader, when_expected_field_is_malformed_then_expect_names_the_field) {
    const bytes in = hx("81 05 00");
    reader r(in);
    auto t = r.expect(0x81, "euiccChallenge");
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, errc::length_past_buffer);
    EXPECT_EQ(t.error().field, "euiccChallenge");
}

TEST(tlv_reader, when_bytes_remain_then_finish_refuses_with_trailing_bytes) {
    const bytes in = hx("80 00 81 00");
    reader r(in, 1, 40);
    ASSERT_TRUE(r.next().has_value());
    auto done = r.finish();
    ASSERT_FALSE(done.has_value());
    EXPECT_EQ(done.error().code, errc::trailing_bytes);
    EXPECT_EQ(done.error().offset, 42u);
}

// ---- primitive contents ---------------------------------------------------

tlv primitive(const bytes& encoded) {
    auto t = decode_single(encoded);
    if (!t) {
        ADD_FAILURE() << "test input does not decode: " << to_hex(encoded);
        return {};
    }
    return *t;
}

TEST(tlv_uint, when_integer_is_minimal_then_decode_uint_returns_it) {
    const std::uint64_t values[] = {0,
                                    1,
                                    127,
                                    128,
                                    255,
                                    256,
                                    65535,
                                    0x7FFFFFFFFFFFFFFFull,
                                    0x8000000000000000ull,
                                    std::numeric_limits<std::uint64_t>::max()};
    for (std::uint64_t v : values) {
        writer w;
        w.add_uint(0x02, v);
        const bytes enc = std::move(w).finish();
        auto d = decode_uint(primitive(enc));
        ASSERT_TRUE(d.has_value()) << v;
        EXPECT_EQ(*d, v);
    }
}

TEST(tlv_uint, when_integer_is_empty_then_decode_uint_refuses_with_invalid_value) {
    const bytes in = hx("02 00");
    EXPECT_EQ(decode_uint(primitive(in)).error().code, errc::invalid_value);
}

TEST(tlv_uint, when_integer_is_negative_then_decode_uint_refuses_with_invalid_value) {
    const bytes in = hx("02 01 80");
    EXPECT_EQ(decode_uint(primitive(in)).error().code, errc::invalid_value);
}

TEST(tlv_uint,
     when_integer_has_redundant_leading_zero_then_decode_uint_refuses_with_invalid_value) {
    const bytes in = hx("02 02 00 7F");
    EXPECT_EQ(decode_uint(primitive(in)).error().code, errc::invalid_value);
}

TEST(tlv_uint, when_integer_exceeds_64_bits_then_decode_uint_refuses_with_invalid_value) {
    const bytes nine = hx("02 09 01 00 00 00 00 00 00 00 00");
    EXPECT_EQ(decode_uint(primitive(nine)).error().code, errc::invalid_value);
    const bytes ten = hx("02 0A 00 FF FF FF FF FF FF FF FF FF");
    EXPECT_EQ(decode_uint(primitive(ten)).error().code, errc::invalid_value);
}

TEST(tlv_uint, when_integer_tag_is_constructed_then_decode_uint_refuses_with_invalid_value) {
    const bytes in = hx("A2 02 05 00");
    EXPECT_EQ(decode_uint(primitive(in)).error().code, errc::invalid_value);
}

TEST(tlv_bool, when_boolean_is_ff_or_00_then_decode_bool_returns_it) {
    const bytes t = hx("01 01 FF");
    const bytes f = hx("01 01 00");
    EXPECT_EQ(decode_bool(primitive(t)), true);
    EXPECT_EQ(decode_bool(primitive(f)), false);
}

TEST(tlv_bool, when_boolean_is_01_then_decode_bool_refuses_with_invalid_value) {
    const bytes in = hx("01 01 01");
    EXPECT_EQ(decode_bool(primitive(in)).error().code, errc::invalid_value);
}

TEST(tlv_bool, when_boolean_is_not_one_byte_then_decode_bool_refuses_with_invalid_value) {
    const bytes empty = hx("01 00");
    const bytes two = hx("01 02 FF FF");
    EXPECT_EQ(decode_bool(primitive(empty)).error().code, errc::invalid_value);
    EXPECT_EQ(decode_bool(primitive(two)).error().code, errc::invalid_value);
}

// ---- names ----------------------------------------------------------------

TEST(tlv_errc, when_each_code_is_named_then_the_name_matches_the_enumerator) {
    const std::pair<errc, std::string_view> names[] = {
        {errc::truncated, "truncated"},
        {errc::indefinite_length, "indefinite_length"},
        {errc::length_past_buffer, "length_past_buffer"},
        {errc::tag_too_long, "tag_too_long"},
        {errc::nesting_too_deep, "nesting_too_deep"},
        {errc::trailing_bytes, "trailing_bytes"},
        {errc::non_minimal_length, "non_minimal_length"},
        {errc::length_too_large, "length_too_large"},
        {errc::non_minimal_tag, "non_minimal_tag"},
        {errc::unexpected_tag, "unexpected_tag"},
        {errc::missing_field, "missing_field"},
        {errc::invalid_value, "invalid_value"},
    };
    for (const auto& [code, name] : names) {
        EXPECT_EQ(to_string(code), name);
    }
}

// ---- round trips ----------------------------------------------------------

TEST(tlv_roundtrip, when_sgp22_like_message_is_decoded_and_rewritten_then_bytes_are_identical) {
    writer w;
    w.begin(0xBF38)
        .begin(0xA0)
        .begin(0x30)
        .add(0x80, filled(16, 0x01))
        .add(0x81, filled(300, 0x02))
        .add_uint(0x82, 0x8000)
        .add_bool(0x83, true)
        .end()
        .add(0x5F37, filled(64, 0x03))
        .end()
        .begin(0xBF818001)
        .end()
        .end();
    const bytes original = std::move(w).finish();
    auto t = decode_single(original);
    ASSERT_TRUE(t.has_value());
    writer again;
    reencode(again, *t, reader(original));
    EXPECT_EQ(std::move(again).finish(), original);
}

TEST(tlv_roundtrip, when_random_trees_are_written_then_they_decode_and_rewrite_identically) {
    std::mt19937 rng(20240521);
    const std::uint32_t tags[] = {0x04, 0x30, 0x80, 0xA0, 0x5F37, 0xBF36, 0x9F1F, 0xBF818001};
    for (int round = 0; round < 200; ++round) {
        writer w;
        int open = 0;
        w.begin(0x30);
        ++open;
        const int steps = static_cast<int>(rng() % 40);
        for (int i = 0; i < steps; ++i) {
            const std::uint32_t tag = tags[rng() % std::size(tags)];
            if (is_constructed(tag) && open < max_depth && rng() % 2 == 0) {
                w.begin(tag);
                ++open;
            } else if (open > 1 && rng() % 3 == 0) {
                w.end();
                --open;
            } else if (!is_constructed(tag)) {
                w.add(tag, filled(rng() % 300, static_cast<std::uint8_t>(i)));
            }
        }
        while (open-- > 0) {
            w.end();
        }
        const bytes original = std::move(w).finish();
        auto t = decode_single(original);
        ASSERT_TRUE(t.has_value()) << "round " << round << ": " << to_string(t.error().code);
        writer again;
        reencode(again, *t, reader(original));
        ASSERT_EQ(std::move(again).finish(), original) << "round " << round;
    }
}

} // namespace
} // namespace esimguard::asn1
