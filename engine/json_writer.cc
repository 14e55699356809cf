#include "engine/json_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace rms {

void JsonWriter::Separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (need_comma_) {
        out_->push_back(',');
    }
}

void JsonWriter::Open(char c) {
    Separate();
    out_->push_back(c);
    need_comma_ = false;
}

void JsonWriter::Close(char c) {
    out_->push_back(c);
    need_comma_ = true;
}

void JsonWriter::Key(std::string_view name) {
    Separate();
    AppendQuoted(out_, name);
    out_->push_back(':');
    after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
    Separate();
    AppendQuoted(out_, value);
    need_comma_ = true;
}

void JsonWriter::Int(int64_t value) {
    Separate();
    out_->append(std::to_string(value));
    need_comma_ = true;
}

void JsonWriter::Bool(bool value) {
    Separate();
    out_->append(value ? "true" : "false");
    need_comma_ = true;
}

void JsonWriter::Null() {
    Separate();
    out_->append("null");
    need_comma_ = true;
}

void JsonWriter::Fixed(double value, int decimals) {
    if (!std::isfinite(value)) {
        Null();
        return;
    }
    Separate();
    char buf[400];  // %f of the largest double needs 309 digits before the point
    int n = std::snprintf(buf, sizeof(buf), "%.*f", decimals > 20 ? 20 : decimals, value);
    out_->append(buf, static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof(buf)) - 1)));
    need_comma_ = true;
}

void JsonWriter::Raw(std::string_view json) {
    Separate();
    out_->append(json);
    need_comma_ = true;
}

namespace {

// The length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t Utf8Length(std::string_view s, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
    unsigned char c = byte(i);
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(i + 1) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(i + 1) || !cont(i + 2)) {
            return 0;
        }
        unsigned char c1 = byte(i + 1);
        bool overlong = c == 0xE0 && c1 < 0xA0;
        bool surrogate = c == 0xED && c1 >= 0xA0;
        return overlong || surrogate ? 0 : 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) {
            return 0;
        }
        unsigned char c1 = byte(i + 1);
        bool overlong = c == 0xF0 && c1 < 0x90;
        bool too_big = c == 0xF4 && c1 >= 0x90;
        return overlong || too_big ? 0 : 4;
    }
    return 0;
}

// Printable ASCII other than the quote and the backslash: written as it is.
bool IsPlain(unsigned char c) {
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

}  // namespace

void JsonWriter::AppendQuoted(std::string* out, std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    out->push_back('"');
    for (size_t i = 0; i < value.size();) {
        // Runs of printable ASCII that need no escape are copied whole.
        size_t run = i;
        while (run < value.size() && IsPlain(static_cast<unsigned char>(value[run]))) {
            ++run;
        }
        if (run > i) {
            out->append(value.data() + i, run - i);
            i = run;
            if (i == value.size()) {
                break;
            }
        }
        unsigned char c = static_cast<unsigned char>(value[i]);
        if (c >= 0x80) {
            // Text from outside (an id in a URL, say) may not be UTF-8: such bytes become
            // U+FFFD so that every answer is valid JSON.
            size_t n = Utf8Length(value, i);
            if (n == 0) {
                out->append("\\ufffd");
                ++i;
            } else {
                out->append(value.substr(i, n));
                i += n;
            }
            continue;
        }
        switch (c) {
            case '"':
                out->append("\\\"");
                break;
            case '\\':
                out->append("\\\\");
                break;
            case '\n':
                out->append("\\n");
                break;
            case '\r':
                out->append("\\r");
                break;
            case '\t':
                out->append("\\t");
                break;
            default:
                if (c < 0x20) {
                    out->append("\\u00");
                    out->push_back(kHex[c >> 4]);
                    out->push_back(kHex[c & 0xf]);
                } else {
                    out->push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out->push_back('"');
}

}  // namespace rms
