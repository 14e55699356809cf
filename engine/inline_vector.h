// A vector of trivially copyable values that keeps its first N in the object itself.
//
// Made for lists that nearly always hold one or two values, kept by the million inside other
// records (an invoice's installments): those need no allocation of their own and are read in the
// record's cache lines instead of behind a pointer. Beyond N the values move to the heap, all of
// them, so that data() is always one contiguous array.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace rms {

template <typename T, uint32_t N>
class InlineVector {
    static_assert(std::is_trivially_copyable_v<T>, "values are moved with memcpy");
    static_assert(std::is_default_constructible_v<T>);
    static_assert(N > 0);

public:
    InlineVector() = default;
    InlineVector(const InlineVector& other) { Assign(other); }
    InlineVector(InlineVector&& other) noexcept { Take(&other); }
    InlineVector& operator=(const InlineVector& other) {
        if (this != &other) {
            clear();
            Assign(other);
        }
        return *this;
    }
    InlineVector& operator=(InlineVector&& other) noexcept {
        if (this != &other) {
            Free();
            Take(&other);
        }
        return *this;
    }
    ~InlineVector() { Free(); }

    T* data() { return on_heap() ? heap_ : inline_; }
    const T* data() const { return on_heap() ? heap_ : inline_; }
    uint32_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T* begin() { return data(); }
    T* end() { return data() + size_; }
    const T* begin() const { return data(); }
    const T* end() const { return data() + size_; }
    T& operator[](size_t i) { return data()[i]; }
    const T& operator[](size_t i) const { return data()[i]; }
    T& back() { return data()[size_ - 1]; }
    const T& back() const { return data()[size_ - 1]; }

    void push_back(const T& value) {
        if (size_ == capacity_) {
            Grow(capacity_ * 2);
        }
        data()[size_++] = value;
    }
    // New values are value-initialised.
    void resize(uint32_t n) {
        if (n > capacity_) {
            Grow(n);
        }
        std::fill(data() + std::min(size_, n), data() + n, T{});
        size_ = n;
    }
    // Keeps the storage, heap or inline.
    void clear() { size_ = 0; }

private:
    bool on_heap() const { return capacity_ > N; }

    void Grow(uint32_t capacity) {
        T* grown = std::allocator<T>().allocate(capacity);
        std::memcpy(static_cast<void*>(grown), data(), sizeof(T) * size_);
        Free();
        heap_ = grown;
        capacity_ = capacity;
    }
    void Free() {
        if (on_heap()) {
            std::allocator<T>().deallocate(heap_, capacity_);
            ResetInline();
        }
    }
    // Makes the inline values the union's live member again.
    void ResetInline() {
        capacity_ = N;
        for (uint32_t i = 0; i < N; ++i) {
            new (&inline_[i]) T();
        }
    }
    // With this empty: copies `other`'s values.
    void Assign(const InlineVector& other) {
        if (other.size_ > capacity_) {
            Grow(other.size_);
        }
        std::memcpy(static_cast<void*>(data()), other.data(), sizeof(T) * other.size_);
        size_ = other.size_;
    }
    // With this holding no heap storage: takes `other`'s values and leaves it empty.
    void Take(InlineVector* other) {
        if (other->on_heap()) {
            heap_ = other->heap_;
            capacity_ = other->capacity_;
            other->ResetInline();
        } else {
            std::memcpy(static_cast<void*>(inline_), other->inline_, sizeof(T) * other->size_);
        }
        size_ = other->size_;
        other->size_ = 0;
    }

    uint32_t size_ = 0;
    uint32_t capacity_ = N;
    union {
        T inline_[N] = {};
        T* heap_;
    };
};

}  // namespace rms
