// The one place toml++'s parser is compiled (no shared library to map: it is most of the daemon's
// resident memory).
#define TOML_IMPLEMENTATION
#include "common/config/toml.h"
