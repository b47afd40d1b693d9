package dev.kiln.selection;

import dev.kiln.SelectionPolicy;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the backend of one plan (one model at one set of input shapes) was chosen: the policy, every
 * backend considered with its time or why it was not one, whether the tuning cache answered and
 * under which key, and the winner.
 *
 * @param policy         the policy in force; {@code null} when a backend was asked for by name
 * @param shapes         the input shapes of the plan, as text
 * @param candidates     every backend considered, in rank order
 * @param cache          whether the tuning cache answered
 * @param keyFields      the cache key's fields (empty when the cache was not consulted)
 * @param winner         the chosen backend's id
 * @param selectionMillis the time the choice took, measuring and compiling the candidates included
 * @param explanation    the choice in one paragraph, for people
 * @param mixed          the mixed plan: how it was planned, which nodes run where, what its
 *                       boundaries cost (its status says when it was not planned, and why); the
 *                       winner is {@value MixedPlan#ID} when it won
 */
public record Selection(SelectionPolicy policy, String shapes, List<Candidate> candidates, CacheUse cache,
                        Map<String, String> keyFields, String winner, double selectionMillis, String explanation,
                        MixedPlan mixed) {

    public Selection {
        candidates = List.copyOf(candidates);
        keyFields = Map.copyOf(keyFields);
        mixed = mixed == null ? MixedPlan.notPlanned("not considered") : mixed;
    }

    /** A selection in which no mixed plan was considered. */
    public Selection(SelectionPolicy policy, String shapes, List<Candidate> candidates, CacheUse cache,
                     Map<String, String> keyFields, String winner, double selectionMillis, String explanation) {
        this(policy, shapes, candidates, cache, keyFields, winner, selectionMillis, explanation, null);
    }

    /** Whether the mixed plan won: then {@link #mixed()} says which nodes run where. */
    public boolean mixedWon() {
        return MixedPlan.ID.equals(winner);
    }

    /** Whether the tuning cache was consulted, and what it gave. */
    public enum CacheUse {
        /** It held an answer for this key, which was used without measuring. */
        HIT,
        /** It held none (or the policy measures anyway): the candidates were measured. */
        MISS,
        /** Not consulted: a backend was named, the rank policy is in force, or there was nothing to choose between. */
        NOT_USED;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    /** The candidate that won, if it is listed. */
    public Candidate winnerCandidate() {
        return candidates.stream().filter(c -> c.backend().equals(winner)).findFirst().orElse(null);
    }
}
