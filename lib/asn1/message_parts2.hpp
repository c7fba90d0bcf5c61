#pragma once
// Private: codecs of the SGP.22 parts nested in several messages
// (NotificationMetadata, OperatorID, NotificationConfigurationInformation,
// DpProprietaryData, ProfileInstallationResult), shared by the
// metadata, BPP, installation-result, notification and ES10c codecs.

#include "esimguard/asn1/install_result.hpp"
#include "esimguard/asn1/metadata.hpp"
#include "field_codec2.hpp"

namespace esimguard::asn1::detail2 {

[[nodiscard]] result<notification_metadata> notification_metadata_of(const reader& parent,
                                                                     const tlv& t);
void put(writer& w, const notification_metadata& m);
[[nodiscard]] result<operator_id> operator_id_of(const reader& parent, const tlv& t);
void put(writer& w, std::uint32_t tag, const operator_id& o);
[[nodiscard]] result<std::vector<notification_configuration_information>>
notification_configuration_list_of(const reader& parent, const tlv& t);
void put(writer& w, const std::vector<notification_configuration_information>& list);
[[nodiscard]] result<dp_proprietary_data> dp_proprietary_data_of(const reader& parent,
                                                                 const tlv& t);
void put(writer& w, const dp_proprietary_data& d);
[[nodiscard]] result<icon_type> icon_type_of(const tlv& t);
[[nodiscard]] result<profile_class> profile_class_of(const tlv& t);
[[nodiscard]] result<profile_installation_result>
profile_installation_result_of(const reader& parent, const tlv& t);
void put(writer& w, const profile_installation_result& p);

} // namespace esimguard::asn1::detail2
