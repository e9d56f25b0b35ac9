// Writing to a file descriptor, once for every part that does (the durable
// stores of delivery/, the outputs that write bytes, `bifrost tap`), and the
// error of a system call, which is its errno.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.h"

namespace bifrost::core {

// A system call's failure: its errno. Unlike core::Error it carries no
// string: the errno says it all, and its message is made when asked for, so
// a failure allocates nothing either.
struct SysError {
  int code = 0;
  const char* message() const;  // strerror(code)
};

template <class T>
using SysResult = Result<T, SysError>;

// The failure of a SysResult: fail_sys(errno).
inline Unexpected<SysError> fail_sys(int code) { return {SysError{code}}; }

// Writes all of `data` to `fd`, retrying short writes and EINTR. `written`,
// when given, is how much went out (all of it on success). On failure errno
// is the error's too, for a caller that reports it with other calls' (an
// fsync after the write).
SysResult<void> write_all(int fd, std::string_view data, std::size_t* written = nullptr);

}  // namespace bifrost::core
