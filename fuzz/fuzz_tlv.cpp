// Fuzz target for the DER TLV layer (lib/asn1/tlv.cpp).
//
// Beyond "never crash", it checks what DER promises: a TLV tree that
// decode_single accepts re-encodes through the writer to exactly the input
// bytes; validate agrees with decode_single; integers and booleans that decode
// re-encode to the bytes they came from.

#include "esimguard/asn1/tlv.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace esimguard;
using namespace esimguard::asn1;

// Rewrites a validated tree child by child, so the writer's lengths and tags
// are compared against the reader's on every level.
void rewrite(writer& w, const tlv& t, const reader& parent) {
    if (!t.constructed()) {
        w.add(t.tag, t.value);
        return;
    }
    auto inner = parent.enter(t);
    if (!inner) {
        fuzz::finding("enter() refused a value decode_single accepted");
    }
    w.begin(t.tag);
    while (!inner->at_end()) {
        auto child = inner->next();
        if (!child) {
            fuzz::finding("next() refused a value decode_single accepted");
        }
        rewrite(w, *child, *inner);
    }
    w.end();
}

bytes reencode(const tlv& t) {
    writer w;
    rewrite(w, t, reader(t.raw));
    return std::move(w).finish();
}

// Primitive contents: whatever decodes must re-encode to the same bytes.
void check_primitive(const tlv& t) {
    if (auto v = decode_uint(t)) {
        writer w;
        w.add_uint(t.tag, *v);
        if (std::move(w).finish() != to_bytes(t.raw)) {
            fuzz::finding("decode_uint accepted a non-canonical INTEGER");
        }
    }
    if (auto b = decode_bool(t)) {
        writer w;
        w.add_bool(t.tag, *b);
        if (std::move(w).finish() != to_bytes(t.raw)) {
            fuzz::finding("decode_bool accepted a non-canonical BOOLEAN");
        }
    }
}

// Walks with the reader API the message decoders use, over arbitrary input
// (several TLVs, any depth), checking reader invariants on the way. Depth is
// bounded by enter(), which refuses past max_depth.
void walk(reader r, std::uint32_t probe_tag) {
    while (!r.at_end()) {
        const std::size_t before = r.remaining();
        auto peeked = r.peek();
        auto maybe = r.next_if(probe_tag);
        if (peeked.has_value() != maybe.has_value()) {
            fuzz::finding("peek() and next_if() disagree on validity");
        }
        if (!maybe) {
            return;
        }
        tlv t;
        if (r.remaining() != before) {
            if (maybe->tag != probe_tag) {
                fuzz::finding("next_if() took a value with another tag");
            }
            t = *maybe;
        } else {
            if (maybe->tag != 0) {
                fuzz::finding("next_if() returned a value without taking it");
            }
            auto n = r.next();
            if (!n) {
                fuzz::finding("next() refused what peek() accepted");
            }
            t = *n;
        }
        if (t.offset != peeked->offset || t.raw.size() != peeked->raw.size()) {
            fuzz::finding("peek() and next() disagree");
        }
        if (r.remaining() >= before) {
            fuzz::finding("reader did not advance");
        }
        check_primitive(t);
        if (auto inner = r.enter(t)) {
            walk(*inner, probe_tag);
        }
    }
    if (!r.finish()) {
        fuzz::finding("finish() refused a reader at its end");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const byte_view input(data, size);

    bytes rewritten;
    const bool accepted = fuzz::roundtrip(input, decode_single, reencode, &rewritten);
    if (accepted && rewritten != to_bytes(input)) {
        fuzz::finding("accepted input is not the canonical DER of its tree");
    }
    const bool valid = validate(input).has_value();
    if (accepted && !valid) {
        fuzz::finding("validate() refused what decode_single accepted");
    }

    const std::uint32_t probe_tag = size > 0 ? data[0] : 0x30;
    walk(reader(input), probe_tag);
    return 0;
}
