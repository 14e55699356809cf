// Status and Result<T>: how fallible functions report failure across module boundaries.
// A Status carries a stable error code (the protocol's codes, such as "invalid_amount") and a
// message that names the object and the bad value.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rms {

class [[nodiscard]] Status {
public:
    Status() = default;
    static Status Ok() { return Status(); }
    static Status Error(std::string_view code, std::string message) {
        return Status(std::string(code), std::move(message));
    }

    bool ok() const { return code_.empty(); }
    // The stable error code; empty when ok().
    const std::string& code() const { return code_; }
    const std::string& message() const { return message_; }

private:
    Status(std::string code, std::string message)
        : code_(std::move(code)), message_(std::move(message)) {}

    std::string code_;
    std::string message_;
};

// Either a value or a failed Status.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : value_(std::move(value)) {}
    Result(Status status) : status_(std::move(status)) {}

    bool ok() const { return value_.has_value(); }
    const Status& status() const { return status_; }
    const T& value() const& { return *value_; }
    T& value() & { return *value_; }
    T&& value() && { return std::move(*value_); }
    const T& operator*() const& { return *value_; }
    T& operator*() & { return *value_; }
    const T* operator->() const { return &*value_; }

private:
    std::optional<T> value_;
    Status status_;
};

}  // namespace rms
