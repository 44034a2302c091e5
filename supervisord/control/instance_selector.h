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

}  // namespace gardien
