// Error text for users: libtorch's messages without the C++ backtrace that c10::Error carries.
#pragma once

#include <exception>
#include <string>

namespace trajmatch {

// The message of any exception, cleaned of libtorch's "Exception raised from ..." backtrace.
std::string describeException(const std::exception& e);

}  // namespace trajmatch
