#include "core/errors.h"

#include <c10/util/Exception.h>

namespace trajmatch {

std::string describeException(const std::exception& e) {
  std::string msg;
  if (const auto* c10err = dynamic_cast<const c10::Error*>(&e)) {
    msg = c10err->what_without_backtrace();
  } else {
    msg = e.what();
  }
  // Some libtorch builds still append the throw site; users need the reason, not our stack.
  const auto at = msg.find("\nException raised from");
  if (at != std::string::npos) msg.erase(at);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

}  // namespace trajmatch
