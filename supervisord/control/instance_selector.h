// NAME arguments of the verbs -> instance names: a program (all its instances), one instance
// ("web.2"), a glob ("web*", matched against program and instance names) or "all".
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "common/protocol.h"

namespace gardien {

// The instance names in `instances`' order, without duplicates, or an unknown_program error that
// names every NAME that matched nothing (details.unknown lists them).
std::variant<std::vector<std::string>, protocol::Error> select_instances(
    const std::vector<protocol::InstanceStatus>& instances, const std::vector<std::string>& names);

// The same among the instances of programs only, for the verbs that act on them (start, stop,
// restart, signal, reload, wait): "all" and globs pass over tasks and their runs, which have
// their own verbs (run, cancel), and a NAME that is a task or a run is an unknown_program error
// that says so.
std::variant<std::vector<std::string>, protocol::Error> select_program_instances(
    const std::vector<protocol::InstanceStatus>& instances, const std::vector<std::string>& names);

}  // namespace gardien
