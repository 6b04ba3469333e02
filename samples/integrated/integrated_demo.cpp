// IntegratedDemo: three contractors in a chain, each feeding the next, over one kind of worker.
//
//   integrated_demo worker     [--config F] [--host H] [--port P]
//   integrated_demo contractor [--config F] [--workers N] [--text FILE]
//
// The workers (type "wordtools") know three operations, chosen by the task's "op":
//   split   {text}            -> {words: [...]}  lowercase runs of ASCII letters and digits
//   count   {words: [...]}    -> {counts: {word: n}}
//   format  {word, n, width}  -> {line: "word  ####### n"}
//
// The contractor side is a chain, a.to_next(b).to_next(c), run with a.run_chain(input):
//   1. Splitter: one task per line of text, handed out by hand the way the original demo did
//      (one slot per worker; a finished slot gets the next line), so fast workers take more;
//   2. Counter: the words in batches of 25, sent with run_job; the partial counts are merged;
//   3. Reporter: one "format" task per word of the top 10, sent with run_job.
// Each stage's output WareHouse is the next one's input. Every stage also appends a line to the
// "trail" list it passes on (the original's growing id string), so the end shows who did what.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/worker.hpp"

namespace {

using fourinone::WareHouse;
using fourinone::WareValue;

constexpr const char* kType = "wordtools";

constexpr const char* kDefaultText =
    "A contractor has work and no hands; a worker has hands and no work.\n"
    "The park keeps the list of who is alive, and the contractor reads it.\n"
    "When a worker dies, the park forgets it, and its work goes to another worker.\n"
    "When a new worker arrives, the park lists it, and the contractor gives it work.\n"
    "Three contractors in a chain: one splits the text, one counts the words,\n"
    "and one writes the report you are reading now.\n";

// --- the worker ------------------------------------------------------------------------------

class WordTools : public fourinone::MigrantWorker {
 public:
  using MigrantWorker::MigrantWorker;

 protected:
  WareHouse do_task(const WareHouse& in) override {
    const std::string op = in.get_string("op").value();
    WareHouse out;
    if (op == "split") {
      WareValue::List words;
      std::string word;
      for (char c : in.get_string("text").value() + " ") {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
          word += c;
        } else if (!word.empty()) {
          words.emplace_back(word);
          word.clear();
        }
      }
      out.put("words", std::move(words));
    } else if (op == "count") {
      std::map<std::string, std::int64_t> counts;
      const WareValue::List words = in.get_list("words").value();
      for (const auto& w : words) ++counts[w.as_string().value()];
      WareValue::Map map;
      for (const auto& [w, n] : counts) map.emplace(w, n);
      out.put("counts", std::move(map));
    } else if (op == "format") {
      const std::string word = in.get_string("word").value();
      const std::int64_t n = in.get_int("n").value();
      std::string line = word + std::string(static_cast<std::size_t>(std::max<std::int64_t>(1, in.get_int("width").value() - static_cast<std::int64_t>(word.size()))), ' ');
      line += std::string(static_cast<std::size_t>(n), '#') + " " + std::to_string(n);
      out.put("line", line);
    } else {
      throw std::invalid_argument("unknown op '" + op + "'");  // comes back as an EXCEPTION result
    }
    out.put("worker", address() ? address()->to_string() : "");
    return out;
  }
};

// --- the three contractors -------------------------------------------------------------------

// Appends one line to the trail and carries it forward.
WareValue::List trail_of(const WareHouse& in, const std::string& line) {
  WareValue::List trail = in.get_list("trail").value_or({});
  trail.emplace_back(line);
  return trail;
}

std::string per_worker(const std::map<std::string, std::size_t>& counts) {
  std::string text;
  for (const auto& [worker, n] : counts) text += (text.empty() ? "" : ", ") + worker + " x" + std::to_string(n);
  return text;
}

class Splitter : public fourinone::Contractor {
 public:
  using Contractor::Contractor;

  // {text} -> {words, trail}
  WareHouse give_task(const WareHouse& in) override {
    std::vector<std::string> lines;
    std::istringstream text(in.get_string("text").value());
    for (std::string line; std::getline(text, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    const std::vector<fourinone::WorkerLocal> workers = get_waiting_workers(kType).value();
    if (workers.empty()) throw std::runtime_error("no worker of type wordtools is waiting");

    // One slot per worker: when its result is in, give that worker the next line.
    std::vector<fourinone::TaskResult> slot(workers.size());
    std::vector<std::size_t> line_of(workers.size());
    std::vector<bool> busy(workers.size(), false);
    std::vector<WareValue::List> words_of(lines.size());
    std::map<std::string, std::size_t> done_by;
    std::size_t next = 0, done = 0;
    while (done < lines.size()) {
      for (std::size_t i = 0; i < workers.size(); ++i) {
        if (busy[i] && slot[i].done()) {
          const WareHouse r = slot[i].wait();
          if (!r.ready()) throw std::runtime_error("split failed on " + workers[i].address() + ": " + r.error());
          words_of[line_of[i]] = r.get_list("words").value();
          ++done_by[workers[i].address()];
          busy[i] = false;
          ++done;
        }
        if (!busy[i] && next < lines.size()) {
          slot[i] = workers[i].do_task(WareHouse{{"op", "split"}, {"text", lines[next]}});
          line_of[i] = next++;
          busy[i] = true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    WareValue::List words;  // in the order of the text
    for (auto& list : words_of) words.insert(words.end(), list.begin(), list.end());
    const std::string line = "splitter: " + std::to_string(lines.size()) + " lines -> " + std::to_string(words.size()) +
                             " words (by hand: " + per_worker(done_by) + ")";
    return WareHouse{{"words", std::move(words)}, {"trail", trail_of(in, line)}};
  }
};

class Counter : public fourinone::Contractor {
 public:
  using Contractor::Contractor;

  // {words, trail} -> {counts, trail}
  WareHouse give_task(const WareHouse& in) override {
    const WareValue::List words = in.get_list("words").value();
    std::vector<WareHouse> tasks;
    for (std::size_t i = 0; i < words.size(); i += 25) {
      const auto end = words.begin() + static_cast<std::ptrdiff_t>(std::min(words.size(), i + 25));
      tasks.push_back(WareHouse{{"op", "count"}, {"words", WareValue::List(words.begin() + static_cast<std::ptrdiff_t>(i), end)}});
    }
    const fourinone::JobResult job = run_job(kType, tasks).value();
    std::map<std::string, std::int64_t> total;
    for (const WareHouse& r : job.results) {
      if (!r.ready()) throw std::runtime_error("count failed: " + r.error());
      const WareValue::Map partial = r.get_map("counts").value();
      for (const auto& [w, n] : partial) total[w] += n.as_int().value();
    }
    WareValue::Map counts;
    for (const auto& [w, n] : total) counts.emplace(w, n);
    const std::string line = "counter: " + std::to_string(tasks.size()) + " batches -> " + std::to_string(counts.size()) +
                             " distinct words (run_job: " + per_worker(job.tasks_per_worker) + ")";
    return WareHouse{{"counts", std::move(counts)}, {"trail", trail_of(in, line)}};
  }
};

class Reporter : public fourinone::Contractor {
 public:
  using Contractor::Contractor;

  // {counts, trail} -> {report, trail}
  WareHouse give_task(const WareHouse& in) override {
    std::vector<std::pair<std::string, std::int64_t>> ranked;
    const WareValue::Map counts = in.get_map("counts").value();
    for (const auto& [w, n] : counts) ranked.emplace_back(w, n.as_int().value());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    ranked.resize(std::min<std::size_t>(ranked.size(), 10));

    std::vector<WareHouse> tasks;
    for (const auto& [w, n] : ranked) tasks.push_back(WareHouse{{"op", "format"}, {"word", w}, {"n", n}, {"width", 12}});
    const fourinone::JobResult job = run_job(kType, tasks).value();
    std::string report;
    for (const WareHouse& r : job.results) {
      if (!r.ready()) throw std::runtime_error("format failed: " + r.error());
      report += "  " + r.get_string("line").value() + "\n";
    }
    const std::string line = "reporter: " + std::to_string(tasks.size()) + " report lines (run_job: " +
                             per_worker(job.tasks_per_worker) + ")";
    return WareHouse{{"report", report}, {"trail", trail_of(in, line)}};
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml", host = "127.0.0.1", text_file;
  int port = 0, workers = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = i + 1 < argc ? argv[++i] : "";
    if (flag == "--config") config_path = value;
    else if (flag == "--host") host = value;
    else if (flag == "--port") port = std::stoi(value);
    else if (flag == "--workers") workers = std::stoi(value);
    else if (flag == "--text") text_file = value;
    else return std::cerr << "unknown flag " << flag << "\n", 2;
  }
  if (role != "worker" && role != "contractor") {
    std::cerr << "usage: integrated_demo worker|contractor [--config F] [--host H] [--port P] [--workers N] [--text FILE]\n";
    return 2;
  }
  try {
    fourinone::Config config = fourinone::load_config(config_path).value();
    if (role == "worker") {
      WordTools worker(config);
      fourinone::Status s = worker.wait_working(host, static_cast<std::uint16_t>(port), kType);
      if (!s.ok()) return std::cerr << "worker: " << s.to_string() << "\n", 1;
      return 0;
    }
    std::string text = kDefaultText;
    if (!text_file.empty()) {
      std::ifstream in(text_file);
      if (!in) return std::cerr << "cannot read " << text_file << "\n", 1;
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    Splitter a(config);
    Counter b(config);
    Reporter c(config);
    // Wait (up to 10 s) for the expected workers, so the first stage spreads over all of them.
    for (int i = 0; i < 100 && a.get_waiting_workers(kType).value().size() < static_cast<std::size_t>(workers); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    a.to_next(b).to_next(c);
    const WareHouse out = a.run_chain(WareHouse{{"text", text}});  // a's output to b, b's to c
    std::cout << "\nthe trail the WareHouse carried through the chain:\n";
    const WareValue::List trail = out.get_list("trail").value();
    for (const auto& line : trail) std::cout << "  " << line.as_string().value() << "\n";
    std::cout << "\nthe report (top words):\n" << out.get_string("report").value();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
