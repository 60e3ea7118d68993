//! Project-wide concurrent executions.

use std::collections::HashMap;

/// Counts executions in flight per project against a limit.
#[derive(Debug)]
pub struct Quota {
    limit: usize,
    used: HashMap<String, usize>,
}

impl Quota {
    /// A quota of `limit` concurrent executions per project.
    pub fn new(limit: usize) -> Self {
        Quota {
            limit,
            used: HashMap::new(),
        }
    }

    /// Takes one execution for `project`; false when the project is at its limit.
    pub fn try_take(&mut self, project: &str) -> bool {
        let used = self.used.entry(project.to_string()).or_insert(0);
        if *used >= self.limit {
            return false;
        }
        *used += 1;
        true
    }

    /// Returns one execution.
    pub fn give_back(&mut self, project: &str) {
        if let Some(used) = self.used.get_mut(project) {
            *used = used.saturating_sub(1);
            if *used == 0 {
                self.used.remove(project);
            }
        }
    }

    /// Executions in flight for `project`.
    pub fn used(&self, project: &str) -> usize {
        self.used.get(project).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_per_project() {
        let mut q = Quota::new(2);
        assert!(q.try_take("a"));
        assert!(q.try_take("a"));
        assert!(!q.try_take("a"));
        assert!(q.try_take("b"), "projects are counted apart");
        q.give_back("a");
        assert!(q.try_take("a"));
        assert_eq!(q.used("a"), 2);
    }
}
