// WordCountDemo: the Hadoop classic on a farm of migrant workers.
//
//   word_count_demo worker     [--config F] [--host H] [--port P]
//   word_count_demo contractor [--config F] [--workers-expected N] [--check] PATH...
//
// The contractor turns the files under PATH... (files, or directories read recursively) into
// tasks: one per file, or one per ~256 KiB chunk of a big file, cut just before a whitespace
// byte so that no word is split between two chunks. A task names the file, the offset and the
// length, not the text: workers read the bytes themselves, so they must see the same paths
// (the same machine, or a shared file system), just as in the original demo -- or PATH is an
// fttp URL (fttp://HOST:PORT/ROOT/FOLDER, include/fourinone/fileops.hpp): then the contractor
// lists the files through the file server and each worker reads its chunk from it, so the
// input may live on another machine than any worker.
//
// run_job spreads the tasks over the workers of type "wordcount" (whoever has room gets the
// next one), each worker returns a map word -> count for its chunk, and the contractor adds
// the maps up. With --check it also counts the same files in this one process and compares.
//
// A word is a maximal run of ASCII letters and digits, lowercased: "Don't" is "don" and "t",
// "GPL-3.0" is "gpl", "3" and "0". Every other byte (punctuation, whitespace, non-ASCII) only
// separates words.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/fileops.hpp"
#include "fourinone/worker.hpp"

namespace fs = std::filesystem;
using Counts = std::map<std::string, std::int64_t>;

namespace {

constexpr const char* kType = "wordcount";
constexpr std::uintmax_t kChunk = 256 * 1024;

// The word rule above, shared by the workers and the single-process check.
void count_words(std::string_view text, Counts& counts) {
  std::string word;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word += c;
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
  if (!word.empty()) ++counts[word];
}

// Bytes [offset, offset + length) of a file. Throws when it cannot be read.
std::string read_range(const std::string& path, std::uintmax_t offset, std::uintmax_t length) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string text(length, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(text.data(), static_cast<std::streamsize>(length));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// --- input through fttp ----------------------------------------------------------------------

bool is_fttp(const std::string& path) { return path.rfind("fttp://", 0) == 0; }

// One fttp client per process, made from the config on first use.
fourinone::Fttp& fttp_client(const fourinone::Config& config) {
  static std::once_flag once;
  static std::unique_ptr<fourinone::Fttp> client;
  std::call_once(once, [&] {
    client = fourinone::Fttp::connect(fourinone::FttpOptions::from_config(config).value()).value();
  });
  return *client;
}

fourinone::FttpUrl fttp_url(const std::string& text) { return fourinone::FttpUrl::parse(text).value(); }

// Bytes [offset, offset + length) of a local file or an fttp URL.
std::string read_any(const fourinone::Config& config, const std::string& path, std::uintmax_t offset,
                     std::uintmax_t length) {
  if (!is_fttp(path)) return read_range(path, offset, length);
  if (length == 0) return {};
  return fttp_client(config).read(fttp_url(path), offset, length).value();
}

std::uintmax_t size_of(const fourinone::Config& config, const std::string& path) {
  if (!is_fttp(path)) return fs::file_size(path);
  return fttp_client(config).stat(fttp_url(path)).value().size;
}

// Every file under an fttp folder (or the URL itself when it is a file), recursively.
void list_fttp(const fourinone::Config& config, const fourinone::FttpUrl& url, std::vector<std::string>& files) {
  const fourinone::FileInfo info = fttp_client(config).stat(url).value();
  if (info.type == fourinone::FileType::file) {
    files.push_back(url.to_string());
    return;
  }
  if (info.type != fourinone::FileType::folder) return;  // links out of the root, devices: skipped
  const std::vector<fourinone::FileInfo> entries = fttp_client(config).list(url).value();
  for (const auto& entry : entries) list_fttp(config, url.child(entry.name), files);
}

// --- the worker ------------------------------------------------------------------------------

class WordCountWorker : public fourinone::MigrantWorker {
 public:
  explicit WordCountWorker(const fourinone::Config& config) : MigrantWorker(config), config_(config) {}

 protected:
  fourinone::WareHouse do_task(const fourinone::WareHouse& in) override {
    const std::string path = in.get_string("path").value();
    const auto offset = static_cast<std::uintmax_t>(in.get_int("offset").value());
    const auto length = static_cast<std::uintmax_t>(in.get_int("length").value());
    Counts counts;
    count_words(read_any(config_, path, offset, length), counts);
    // The partial counts travel as a WareValue::Map: word -> integer.
    fourinone::WareValue::Map map;
    for (const auto& [word, n] : counts) map.emplace(word, n);
    return fourinone::WareHouse{{"counts", std::move(map)}};
  }

 private:
  const fourinone::Config config_;
};

// --- the contractor --------------------------------------------------------------------------

struct Chunk {
  std::string path;
  std::uintmax_t offset = 0, length = 0;
};

// Every regular file under the paths, sorted, as absolute paths (the workers' working
// directory is not ours).
std::vector<std::string> list_files(const fourinone::Config& config, const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (is_fttp(p)) {
      list_fttp(config, fttp_url(p), files);
    } else if (fs::is_directory(p)) {
      for (const auto& entry : fs::recursive_directory_iterator(p)) {
        // Links inside a directory are skipped: /usr/share/common-licenses/GPL -> GPL-3 would
        // count GPL-3 twice. A link named on the command line is followed.
        if (entry.is_regular_file() && !entry.is_symlink()) files.push_back(fs::absolute(entry.path()).string());
      }
    } else if (fs::is_regular_file(p)) {
      files.push_back(fs::absolute(p).string());
    } else {
      throw std::runtime_error(p + " is neither a file nor a directory");
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Cuts a file into chunks of about kChunk bytes, each ending just before a whitespace byte.
std::vector<Chunk> split(const fourinone::Config& config, const std::string& path) {
  const std::uintmax_t size = size_of(config, path);
  std::vector<Chunk> chunks;
  std::uintmax_t start = 0;
  while (start < size || chunks.empty()) {
    std::uintmax_t end = std::min(start + kChunk, size);
    // Move the cut forward to the next whitespace byte (or the end of the file), looking at
    // 4 KiB at a time.
    while (end < size) {
      const std::string ahead = read_any(config, path, end, std::min<std::uintmax_t>(4096, size - end));
      const auto space = std::find_if(ahead.begin(), ahead.end(), is_space);
      end += static_cast<std::uintmax_t>(space - ahead.begin());
      if (space != ahead.end() || ahead.empty()) break;
    }
    chunks.push_back({path, start, end - start});
    start = end;
  }
  return chunks;
}

class WordCountContractor : public fourinone::Contractor {
 public:
  WordCountContractor(fourinone::Config config, std::size_t expected) : Contractor(std::move(config)), expected_(expected) {}

  fourinone::JobResult job;  // kept for the report in main()

  // Input: {files: [path, ...]}. Output: {counts: {word: n}}.
  fourinone::WareHouse give_task(const fourinone::WareHouse& in) override {
    std::vector<fourinone::WareHouse> tasks;
    // (Hold each Result's value in a variable: `for (x : f().value())` would iterate a
    // temporary that is already gone.)
    const fourinone::WareValue::List files = in.get_list("files").value();
    for (const auto& file : files) {
      for (const Chunk& c : split(config(), file.as_string().value())) {
        tasks.push_back(fourinone::WareHouse{{"path", c.path}, {"offset", c.offset}, {"length", c.length}});
      }
    }
    // So that the work spreads over all of them, wait (up to 30 s) for the workers we expect.
    for (int i = 0; i < 300 && get_waiting_workers(kType).value().size() < expected_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cout << "contractor: " << tasks.size() << " task(s) for " << get_waiting_workers(kType).value().size()
              << " worker(s)" << std::endl;

    job = run_job(kType, tasks).value();
    Counts total;
    for (std::size_t i = 0; i < job.results.size(); ++i) {
      const fourinone::WareHouse& r = job.results[i];
      if (!r.ready()) throw std::runtime_error("task " + std::to_string(i) + " failed: " + r.error());
      const fourinone::WareValue::Map partial = r.get_map("counts").value();
      for (const auto& [word, n] : partial) total[word] += n.as_int().value();
    }
    fourinone::WareValue::Map map;
    for (const auto& [word, n] : total) map.emplace(word, n);
    return fourinone::WareHouse{{"counts", std::move(map)}};
  }

 private:
  std::size_t expected_;
};

int run_contractor(const fourinone::Config& config, std::size_t expected, bool check,
                   const std::vector<std::string>& paths) {
  const auto started = std::chrono::steady_clock::now();
  const std::vector<std::string> files = list_files(config, paths);
  fourinone::WareValue::List file_list(files.begin(), files.end());

  WordCountContractor contractor(config, expected);
  const fourinone::WareHouse out = contractor.give_task(fourinone::WareHouse{{"files", file_list}});
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

  Counts counts;
  std::int64_t total_words = 0;
  const fourinone::WareValue::Map merged = out.get_map("counts").value();
  for (const auto& [word, n] : merged) total_words += counts[word] = n.as_int().value();

  // The report: top 10 (most frequent first, ties alphabetically), totals, time, workers.
  std::vector<std::pair<std::string, std::int64_t>> ranked(counts.begin(), counts.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::cout << "top " << std::min<std::size_t>(10, ranked.size()) << " words:\n";
  for (std::size_t i = 0; i < ranked.size() && i < 10; ++i) {
    std::cout << "  " << std::setw(2) << i + 1 << ". " << std::left << std::setw(14) << ranked[i].first << std::right
              << std::setw(8) << ranked[i].second << "\n";
  }
  std::cout << files.size() << " file(s), " << contractor.job.results.size() << " task(s): " << counts.size()
            << " distinct words, " << total_words << " words in all\n";
  std::cout << "wall time: " << wall.count() << " ms (run_job " << contractor.job.elapsed.count() << " ms, "
            << contractor.job.reruns << " rerun(s))\n";
  std::cout << "tasks per worker:\n";
  for (const auto& [worker, n] : contractor.job.tasks_per_worker) std::cout << "  " << worker << ": " << n << "\n";

  if (!check) return 0;
  Counts single;
  for (const auto& f : files) count_words(read_any(config, f, 0, size_of(config, f)), single);
  if (single == counts) {
    std::cout << "single-process check: OK\n";
    return 0;
  }
  // Show what differs: at most 10 words, then how many in all.
  std::size_t differing = 0;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> diff;  // word -> (distributed, single)
  for (const auto& [w, n] : counts) diff[w].first = n;
  for (const auto& [w, n] : single) diff[w].second = n;
  std::cout << "single-process check: FAILED\n";
  for (const auto& [w, pair] : diff) {
    if (pair.first == pair.second) continue;
    if (++differing <= 10) std::cout << "  " << w << ": distributed " << pair.first << ", single process " << pair.second << "\n";
  }
  std::cout << "  " << differing << " word(s) differ (distributed " << counts.size() << " distinct, single process "
            << single.size() << ")\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml", host = "127.0.0.1";
  int port = 0;
  std::size_t expected = 1;
  bool check = false;
  std::vector<std::string> paths;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--config") config_path = value();
      else if (arg == "--host") host = value();
      else if (arg == "--port") port = std::stoi(value());
      else if (arg == "--workers-expected") expected = static_cast<std::size_t>(std::stoul(value()));
      else if (arg == "--check") check = true;
      else if (arg.rfind("--", 0) == 0) throw std::invalid_argument("unknown flag " + arg);
      else paths.push_back(arg);
    } catch (const std::exception& e) {
      std::cerr << "word_count_demo: " << e.what() << "\n";
      return 2;
    }
  }
  if ((role != "worker" && role != "contractor") || (role == "contractor" && paths.empty())) {
    std::cerr << "usage: word_count_demo worker [--config F] [--host H] [--port P]\n"
                 "       word_count_demo contractor [--config F] [--workers-expected N] [--check] PATH...\n"
                 "PATH: a file, a folder, or an fttp URL (fttp://HOST:PORT/ROOT/PATH) of either\n";
    return 2;
  }
  try {
    fourinone::Config config = fourinone::load_config(config_path).value();
    if (role == "worker") {
      WordCountWorker worker(config);
      fourinone::Status s = worker.wait_working(host, static_cast<std::uint16_t>(port), kType);  // until SIGTERM
      if (!s.ok()) return std::cerr << "worker: " << s.to_string() << "\n", 1;
      return 0;
    }
    return run_contractor(config, expected, check, paths);
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
