#include "park/server/member_book.hpp"

#include <algorithm>
#include <charconv>

namespace fourinone::park {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

Status bad(const std::string& what) { return Status(Errc::bad_request, "member book: " + what); }

}  // namespace

std::string encode_member_book(const MemberBook& book) {
  std::string out = "next=" + std::to_string(book.next_id);
  for (const auto& [id, address] : book.addresses) out += ";" + std::to_string(id) + "=" + address.to_string();
  return out;
}

Result<MemberBook> decode_member_book(std::string_view text) {
  MemberBook book;
  bool have_next = false;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find(';'), text.size());
    const std::string_view item = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return bad("item '" + std::string(item) + "' has no '='");
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "next") {
      auto next = parse_u64(value);
      if (!next || *next == 0) return bad("next id '" + std::string(value) + "' is not a positive number");
      book.next_id = *next;
      have_next = true;
      continue;
    }
    auto id = parse_u64(key);
    if (!id || *id == 0) return bad("member id '" + std::string(key) + "' is not a positive number");
    auto address = parse_server_address(value);
    if (!address.ok()) return bad("member " + std::string(key) + ": " + address.status().message());
    if (!book.addresses.emplace(*id, address.value()).second) return bad("member " + std::string(key) + " twice");
  }
  if (!have_next) return bad("no next id");
  if (!book.addresses.empty() && book.addresses.rbegin()->first >= book.next_id) {
    return bad("next id " + std::to_string(book.next_id) + " is not past every member's");
  }
  return book;
}

Result<MemberBook> member_book_of(const raft::Membership& membership, const std::vector<ServerAddress>& bootstrap) {
  MemberBook book;
  if (membership.context.empty()) {
    for (std::size_t i = 0; i < bootstrap.size(); ++i) book.addresses[i + 1] = bootstrap[i];
    book.next_id = bootstrap.size() + 1;
  } else {
    auto decoded = decode_member_book(membership.context);
    if (!decoded.ok()) return Status(Errc::internal, decoded.status().message());
    book = std::move(decoded).value();
  }
  for (const auto* ids : {&membership.voters, &membership.learners}) {
    for (raft::NodeId id : *ids) {
      if (!book.addresses.count(id)) {
        return Status(Errc::internal, "member book: no address for member " + std::to_string(id));
      }
    }
  }
  return book;
}

namespace {

// Only the members of `membership` keep their address; next_id stays.
std::string context_for(const raft::Membership& membership, MemberBook book) {
  for (auto it = book.addresses.begin(); it != book.addresses.end();) {
    it = membership.contains(it->first) ? std::next(it) : book.addresses.erase(it);
  }
  return encode_member_book(book);
}

std::optional<raft::NodeId> id_at(const MemberBook& book, const raft::Membership& membership,
                                  const ServerAddress& address) {
  for (const auto& [id, a] : book.addresses) {
    if (a == address && membership.contains(id)) return id;
  }
  return std::nullopt;
}

}  // namespace

Result<raft::Membership> membership_adding(const raft::Membership& now, const std::vector<ServerAddress>& bootstrap,
                                           const ServerAddress& address) {
  auto book = member_book_of(now, bootstrap);
  if (!book.ok()) return book.status();
  if (auto id = id_at(book.value(), now, address)) {
    return Status(Errc::exists, address.to_string() + " is already member " + std::to_string(*id) +
                                            (now.is_learner(*id) ? " (a learner, catching up)" : ""));
  }
  raft::Membership next = now;
  const raft::NodeId id = book->next_id++;
  book->addresses[id] = address;
  next.learners.insert(std::upper_bound(next.learners.begin(), next.learners.end(), id), id);
  next.context = context_for(next, std::move(book).value());
  return next;
}

Result<raft::Membership> membership_removing(const raft::Membership& now, const std::vector<ServerAddress>& bootstrap,
                                             const ServerAddress& address) {
  auto book = member_book_of(now, bootstrap);
  if (!book.ok()) return book.status();
  auto id = id_at(book.value(), now, address);
  if (!id) return Status(Errc::not_found, address.to_string() + " is not a member of the group");
  if (now.voters.size() == 1 && now.is_voter(*id)) {
    return Status(Errc::bad_request, address.to_string() + " is the group's last voter; a group needs one");
  }
  raft::Membership next = now;
  std::erase(next.voters, *id);
  std::erase(next.learners, *id);
  next.context = context_for(next, std::move(book).value());
  return next;
}

}  // namespace fourinone::park
