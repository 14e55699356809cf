#include "tests/support/command.h"

#include <sys/wait.h>

#include <cstdio>

namespace rms {

CommandResult RunCommand(const std::string& command) {
    CommandResult result;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return result;
    }
    char buf[512];
    while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) {
        result.output.append(buf, n);
    }
    int status = ::pclose(pipe);
    if (status != -1 && WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    }
    return result;
}

}  // namespace rms
