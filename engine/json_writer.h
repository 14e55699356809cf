// A small appending JSON writer for answers, query responses and generated events.
// It writes compact JSON into a std::string; strings are escaped so that every output parses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rms {

class JsonWriter {
public:
    explicit JsonWriter(std::string* out) : out_(out) {}

    void BeginObject() { Open('{'); }
    void EndObject() { Close('}'); }
    void BeginArray() { Open('['); }
    void EndArray() { Close(']'); }

    // Writes an object member name; the value call that follows writes its value.
    void Key(std::string_view name);

    void String(std::string_view value);
    void Int(int64_t value);
    void Bool(bool value);
    void Null();
    // Writes a number with exactly `decimals` digits after the point (for day figures).
    void Fixed(double value, int decimals);
    // Writes already serialised JSON as a value.
    void Raw(std::string_view json);

    // Appends `value` to `out` as a quoted, escaped JSON string.
    static void AppendQuoted(std::string* out, std::string_view value);

private:
    void Open(char c);
    void Close(char c);
    void Separate();

    std::string* out_;
    bool need_comma_ = false;
    bool after_key_ = false;
};

}  // namespace rms
