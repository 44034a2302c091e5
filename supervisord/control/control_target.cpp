#include "supervisord/control/control_target.h"

namespace gardien {

// Removal during a publish only marks the entry dead, so a running listener is never destroyed
// under its own feet; the outermost publish erases the dead ones.
struct StateChangeHub::Subscription::Registry {
  std::map<std::uint64_t, Listener> listeners;
  std::set<std::uint64_t> dead;
  std::uint64_t next_id = 1;
  int publishing = 0;

  void remove(std::uint64_t id) {
    if (publishing > 0) {
      if (listeners.count(id)) dead.insert(id);
    } else {
      listeners.erase(id);
    }
  }
};

StateChangeHub::Subscription::Subscription(Subscription&& other) noexcept
    : registry_(std::move(other.registry_)), id_(std::exchange(other.id_, 0)) {}

StateChangeHub::Subscription& StateChangeHub::Subscription::operator=(
    Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::move(other.registry_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void StateChangeHub::Subscription::reset() noexcept {
  if (id_ == 0) return;
  if (auto registry = registry_.lock()) registry->remove(id_);
  registry_.reset();
  id_ = 0;
}

bool StateChangeHub::Subscription::active() const noexcept {
  return id_ != 0 && !registry_.expired();
}

StateChangeHub::StateChangeHub() : registry_(std::make_shared<Subscription::Registry>()) {}

StateChangeHub::Subscription StateChangeHub::subscribe(Listener listener) {
  std::uint64_t id = registry_->next_id++;
  registry_->listeners.emplace(id, std::move(listener));
  return Subscription(registry_, id);
}

void StateChangeHub::publish(const StateChange& change) {
  // Keeps the registry alive even if a listener destroys the hub's owner.
  std::shared_ptr<Subscription::Registry> registry = registry_;
  std::vector<std::uint64_t> ids;
  ids.reserve(registry->listeners.size());
  for (const auto& [id, listener] : registry->listeners) ids.push_back(id);

  ++registry->publishing;
  struct Done {
    Subscription::Registry& r;
    ~Done() {
      if (--r.publishing == 0) {
        for (std::uint64_t id : r.dead) r.listeners.erase(id);
        r.dead.clear();
      }
    }
  } done{*registry};
  for (std::uint64_t id : ids) {
    auto it = registry->listeners.find(id);
    if (it == registry->listeners.end() || registry->dead.count(id)) continue;
    it->second(change);
  }
}

std::size_t StateChangeHub::listener_count() const {
  return registry_->listeners.size() - registry_->dead.size();
}

}  // namespace gardien
