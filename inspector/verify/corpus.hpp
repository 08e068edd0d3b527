// `pemap verify --corpus DIR...`: parse, map and load every file of a directory, each in a child process of its
// own, and say per file whether pemap read it (ok), refused it cleanly (with its reason), or crashed or hung.
#pragma once

#include <string>
#include <vector>

namespace pemap::inspect {

struct CorpusOptions {
  std::vector<std::string> dirs;
  unsigned timeout_seconds = 20;  ///< per file, all three stages
  unsigned jobs = 0;              ///< children at once; 0: one per CPU
  bool json = false;
  bool jsonl = false;  ///< with json: a line per file, no totals
};

/// Exit 0 when no file crashed or timed out, 1 otherwise, 2 when a directory cannot be read.
int run_verify_corpus(const CorpusOptions& opts);

}  // namespace pemap::inspect
