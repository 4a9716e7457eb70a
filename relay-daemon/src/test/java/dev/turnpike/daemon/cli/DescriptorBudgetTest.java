package dev.turnpike.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DescriptorBudgetTest {
    @Test
    void aRangeFitsWhenItsPortsAndEverythingElseAreWithinTheLimit() {
        DescriptorBudget budget = new DescriptorBudget(1024, 100, 1);
        assertThat(budget.needed(924)).isEqualTo(1024);
        assertThat(budget.fits(924)).isTrue();
        assertThat(budget.fits(925)).isFalse();
        assertThat(new DescriptorBudget(1024, 100, 2).fits(924))
                .as("two families")
                .isFalse();
    }

    @Test
    void anUnknownLimitFitsAnything() {
        assertThat(new DescriptorBudget(-1, 100, 2).fits(1_000_000)).isTrue();
        assertThat(new DescriptorBudget(0, 100, 2).fits(1_000_000)).isTrue();
    }

    @Test
    void eachAllocationThatFitsHoldsAPortAndItsNeighbourInEveryFamily() {
        assertThat(new DescriptorBudget(1024, 100, 1).allocationsThatFit()).isEqualTo(462);
        assertThat(new DescriptorBudget(1024, 100, 2).allocationsThatFit()).isEqualTo(231);
        assertThat(new DescriptorBudget(101, 100, 1).allocationsThatFit())
                .as("one port, no neighbour")
                .isZero();
        assertThat(new DescriptorBudget(50, 100, 1).allocationsThatFit()).isZero();
    }
}
