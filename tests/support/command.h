// Running a program of the project (rmsd --check-config, rmsctl) from a test and reading what it
// printed.
#pragma once

#include <string>

namespace rms {

struct CommandResult {
    int exit_code = -1;  // -1 when it could not be run or did not exit normally
    std::string output;  // stdout, and stderr when the command redirects it (2>&1)
};

// Runs `command` with /bin/sh and waits for it to exit.
CommandResult RunCommand(const std::string& command);

}  // namespace rms
