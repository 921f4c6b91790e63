//! The engine's side of execution algorithms: parents start, stop and are listed here, are
//! stepped after every market event, and their children's updates go to them, not to the
//! strategy of the deployment whose orders they are.

use super::{DeployError, Engine};
use crate::execution::algo::{AlgoView, order::AlgoOrder};

impl Engine {
    /// Starts parent `order` on deployment `name`'s account (`weights`: a VWAP's volume
    /// profile): its id, or why not.
    pub fn start_algo(
        &mut self,
        name: &str,
        order: &AlgoOrder,
        weights: Option<Vec<f64>>,
    ) -> Result<Result<u64, String>, DeployError> {
        let owner = self.deployment_id(name)?;
        let spec = {
            let market = self.env.market();
            let venues: Vec<_> = market
                .symbols()
                .id(&order.symbol.to_ascii_uppercase())
                .map(|symbol| self.env.orders().venue_legs(symbol, &market))
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.name)
                .collect();
            order.resolve(&market, self.now, weights, &venues)
        };
        Ok(spec.map(|spec| {
            let id = self.env.algos().start(owner, spec);
            self.deliver_updates();
            id
        }))
    }

    /// Stops parent `id`; false for no such working parent.
    pub fn cancel_algo(&mut self, id: u64) -> bool {
        let stopped = {
            let mut orders = self.env.orders();
            self.env.algos().cancel(id, self.now, &mut orders)
        };
        self.deliver_updates();
        stopped
    }

    /// Every parent order, newest first, with its cost analysis.
    pub fn algos(&self) -> Vec<AlgoView> {
        let market = self.env.market();
        self.env.algos().views(&market, |id| {
            self.deployments
                .iter()
                .find(|d| d.id == id)
                .map_or_else(|| format!("#{}", id.0), |d| d.name.to_string())
        })
    }

    /// Works the parents at the current event time.
    pub(super) fn step_algos(&mut self) {
        // Per event: nothing but one lock while no parent works.
        if !self.env.algos().active() {
            return;
        }
        let market = self.env.market();
        let mut orders = self.env.orders();
        self.env.algos().step(self.now, &market, &mut orders);
    }
}
