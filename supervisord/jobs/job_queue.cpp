#include "supervisord/jobs/job_queue.h"

#include <algorithm>
#include <tuple>

namespace gardien {

bool JobQueue::push(std::string id, std::string task, Priority priority, bool beside_task_limit) {
  if (queued_ >= limits_.max_queued) return false;
  tasks_[std::move(task)].waiting.push_back(
      Entry{next_seq_++, priority, std::move(id), beside_task_limit});
  ++queued_;
  return true;
}

bool JobQueue::remove(const std::string& id) {
  for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
    auto& waiting = it->second.waiting;
    auto pos =
        std::find_if(waiting.begin(), waiting.end(), [&](const Entry& e) { return e.id == id; });
    if (pos == waiting.end()) continue;
    waiting.erase(pos);
    --queued_;
    drop_if_idle(it);
    return true;
  }
  return false;
}

std::vector<std::string> JobQueue::remove_task(const std::string& task) {
  std::vector<std::string> out;
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return out;
  for (Entry& e : it->second.waiting) out.push_back(std::move(e.id));
  queued_ -= it->second.waiting.size();
  it->second.waiting.clear();
  drop_if_idle(it);
  return out;
}

std::vector<JobQueue::Waiting> JobQueue::clear() {
  std::vector<std::tuple<std::uint64_t, std::string, std::string>> all;
  for (auto& [task, q] : tasks_) {
    for (Entry& e : q.waiting) all.emplace_back(e.seq, std::move(e.id), task);
    q.waiting.clear();
  }
  std::sort(all.begin(), all.end());
  std::vector<Waiting> out;
  for (auto& [seq, id, task] : all) out.push_back({std::move(id), std::move(task)});
  queued_ = 0;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    it = it->second.running == 0 ? tasks_.erase(it) : std::next(it);
  }
  return out;
}

std::optional<std::map<std::string, JobQueue::TaskQueue>::iterator> JobQueue::next_admissible(
    const TaskLimit& task_limit) {
  std::optional<std::map<std::string, TaskQueue>::iterator> best;
  for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
    const TaskQueue& q = it->second;
    if (q.waiting.empty()) continue;
    const Entry& head = q.waiting.front();
    if (q.running >= task_limit(it->first) && !head.beside_task_limit) continue;
    if (!best ||
        std::tie(head.priority, head.seq) <
            std::tie((*best)->second.waiting.front().priority, (*best)->second.waiting.front().seq))
      best = it;
  }
  return best;
}

std::vector<JobQueue::Waiting> JobQueue::admit(const TaskLimit& task_limit) {
  std::vector<Waiting> out;
  while (running_ < std::max<std::size_t>(limits_.slots, 1)) {
    auto next = next_admissible(task_limit);
    if (!next) break;
    TaskQueue& q = (*next)->second;
    out.push_back({std::move(q.waiting.front().id), (*next)->first});
    q.waiting.pop_front();
    ++q.running;
    --queued_;
    ++running_;
  }
  return out;
}

void JobQueue::finished(const std::string& task) {
  auto it = tasks_.find(task);
  if (it == tasks_.end() || it->second.running == 0) return;
  --it->second.running;
  --running_;
  drop_if_idle(it);
}

std::size_t JobQueue::running_of(const std::string& task) const {
  auto it = tasks_.find(task);
  return it == tasks_.end() ? 0 : it->second.running;
}

std::size_t JobQueue::queued_of(const std::string& task) const {
  auto it = tasks_.find(task);
  return it == tasks_.end() ? 0 : it->second.waiting.size();
}

std::vector<std::string> JobQueue::waiting(const std::string& task, std::size_t limit) const {
  std::vector<const Entry*> all;
  for (const auto& [name, q] : tasks_) {
    if (!task.empty() && name != task) continue;
    for (const Entry& e : q.waiting) all.push_back(&e);
  }
  auto end = all.begin() + static_cast<std::ptrdiff_t>(std::min(limit, all.size()));
  std::partial_sort(all.begin(), end, all.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->priority, a->seq) < std::tie(b->priority, b->seq);
  });
  std::vector<std::string> out;
  for (auto it = all.begin(); it != end; ++it) out.push_back((*it)->id);
  return out;
}

void JobQueue::drop_if_idle(std::map<std::string, TaskQueue>::iterator it) {
  if (it->second.waiting.empty() && it->second.running == 0) tasks_.erase(it);
}

}  // namespace gardien
