#include "engine/json_writer.h"

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
    char buf[64];
    int n = std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
    out_->append(buf, static_cast<size_t>(n));
    need_comma_ = true;
}

void JsonWriter::Raw(std::string_view json) {
    Separate();
    out_->append(json);
    need_comma_ = true;
}

void JsonWriter::AppendQuoted(std::string* out, std::string_view value) {
    static constexpr char kHex[] = "0123456789abcdef";
    out->push_back('"');
    for (unsigned char c : value) {
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
    }
    out->push_back('"');
}

}  // namespace rms
