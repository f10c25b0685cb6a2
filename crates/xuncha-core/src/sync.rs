//! Locking shared state whose every critical section leaves it consistent.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, ignoring poisoning: every critical section in xuncha leaves its data
/// consistent (a single assignment, or a transaction the database rolls back), so a holder
/// that panicked has left nothing half-done, and spreading its panic would only take the
/// next caller down too.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
