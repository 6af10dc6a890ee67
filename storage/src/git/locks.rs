//! In-process commit serialisation: at most one commit per (repo, branch) at a time among the
//! users of one [`GitStore`](super::GitStore) (and its clones).
//!
//! Correctness never depends on it: the compare-and-swap on the ref is what keeps commits from
//! being lost, across threads and processes alike. The lock only stops writers *in one process*
//! from racing each other's CAS and rebuilding their trees over and over (measured without it:
//! 8 threads on one branch needed up to 32 attempts for one commit, each attempt fsyncing its
//! objects). Separate `GitStore` values on the same root behave like separate processes.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, PoisonError};

/// The set of branches being committed to, and a condition to wait on for one to free up.
#[derive(Debug, Default)]
pub(crate) struct BranchLocks {
    busy: Mutex<HashSet<String>>,
    freed: Condvar,
}

/// Held while a commit to one branch is being made; frees the branch on drop (also when the
/// commit panics).
pub(crate) struct BranchGuard<'a> {
    locks: &'a BranchLocks,
    name: String,
}

impl BranchLocks {
    /// Take branch `branch` of repo `key`, waiting while another writer of this store has it.
    pub(crate) fn lock(&self, key: &str, branch: &str) -> BranchGuard<'_> {
        let name = format!("{key}\0{branch}");
        let mut busy = self.busy.lock().unwrap_or_else(PoisonError::into_inner);
        while busy.contains(&name) {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        busy.insert(name.clone());
        BranchGuard { locks: self, name }
    }
}

impl Drop for BranchGuard<'_> {
    fn drop(&mut self) {
        let mut busy = self
            .locks
            .busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        busy.remove(&self.name);
        drop(busy);
        self.locks.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn one_holder_per_branch() {
        let locks = Arc::new(BranchLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (locks, inside, max_inside) =
                    (locks.clone(), inside.clone(), max_inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _g = locks.lock("models/1", "main");
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max_inside.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(max_inside.load(Ordering::SeqCst), 1);
        assert!(locks.busy.lock().unwrap().is_empty());
        // Different branches do not wait for each other.
        let _a = locks.lock("models/1", "main");
        let _b = locks.lock("models/1", "dev");
        let _c = locks.lock("models/2", "main");
    }
}
